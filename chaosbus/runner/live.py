"""A run while it is live: its parts, what it records on every tick, the facts it freezes.

    LiveParts   the observation and both sides it injects on, driven as one by the phases
                (intensity, stop) and read as one (decisions so far, the live metrics)
    LiveRecord  what only a live run can record: the timeline (phases and samples), the
                recovery series, each guardrail's worst value, the steady state before;
                `tick` samples it, `facts` freezes it with the observation's verdict

Neither owns a lifetime: `runner.run` opens the parts (kill switch watcher, observation,
topic side, HTTP side, in that order) and closes them after the facts are frozen.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TypeAlias

from chaosbus.control.scopes import Paused
from chaosbus.experiment.spec import ExperimentSpec
from chaosbus.injectors.plan import FAULT_TYPES
from chaosbus.monitors.metrics import time_to_recovery
from chaosbus.monitors.redelivery import first_decisions
from chaosbus.report.model import HypothesisResult
from chaosbus.runner.facts import RunFacts, Window, observed_checks
from chaosbus.runner.guardrails import GuardrailWatch
from chaosbus.runner.http_side import HttpSide
from chaosbus.runner.observation import LiveObservation
from chaosbus.runner.observe import Observed
from chaosbus.runner.progress import Progress
from chaosbus.runner.supervised_side import SupervisedTopicSide
from chaosbus.runner.timeline import Sample, Timeline
from chaosbus.runner.topic_side import TopicSide
from chaosbus.runner.verdict import judge

LIVE_LATENCY_WINDOW_MS = 5_000

# The interposer in this process, or in a child process restarted when it dies.
TopicSides: TypeAlias = TopicSide | SupervisedTopicSide


@dataclass(frozen=True)
class LiveParts:
    observation: LiveObservation
    topics: TopicSides
    http: HttpSide

    def set_intensity(self, intensity: float) -> None:
        self.topics.set_intensity(intensity)
        self.http.set_intensity(intensity)

    def apply_pauses(self, paused: Paused) -> None:
        """The scoped switches, on both sides (`control.scopes`)."""
        self.topics.apply_pauses(paused)
        self.http.apply_pauses(paused)

    async def stop_injecting(self) -> None:
        """No more faults on either side; what the topic side holds is released now."""
        self.http.stop_injecting()
        await self.topics.stop_injecting()

    @property
    def injecting(self) -> bool:
        return self.topics.injecting or self.http.injecting

    def fault_counts(self) -> dict[str, int]:
        """Decisions by type on both sides (`http.<type>` keys with HTTP routes)."""
        return {**self.topics.fault_counts(), **self.http.fault_counts()}

    def report_fault_counts(self) -> dict[str, int]:
        """`fault_counts` and the messages the destination refused, when there are any (a
        refused message was decided too, so it is counted apart). After an interposer
        restart the topic side's decisions are counted from the ledger, each source
        message once, as `check` counts them: a message decided again after the restart
        is one decision, not two."""
        counts = self.fault_counts()
        if self.topics.restarts:
            decided = Counter(r.fault for r in first_decisions(self.observation.collector.ledger))
            counts.update({kind: decided[kind] for kind in ("pass", *FAULT_TYPES)})
        refused = self.topics.refused()
        if refused:
            counts["undeliverable"] = refused
        return counts

    def observed(self, now_ms: int, *, retries: bool) -> Observed:
        """The live metrics at `now_ms` (`retries`: the experiment has HTTP routes)."""
        observation = self.observation
        return Observed(
            observation.snapshot(now_ms),
            self.fault_counts(),
            self.topics.held,
            observation.latency_since(now_ms - LIVE_LATENCY_WINDOW_MS),
            service=observation.service_progress(None),
            retries=self.http.observation() if retries else None,
        )


@dataclass(frozen=True, slots=True)
class Tick:
    """One tick's outcome: why the run must abort, if it must, and the progress to show."""

    breach: str | None  # a guardrail held breached long enough
    failure: str | None  # the interposer stopped
    progress: Progress


@dataclass
class LiveRecord:
    spec: ExperimentSpec
    timeline: Timeline
    guardrails: GuardrailWatch
    intensity: float = 0.0
    clean_series: list[tuple[int, bool]] = field(default_factory=list)
    before: list[HypothesisResult] = field(default_factory=list)
    last_observed: Observed | None = None  # the last tick's, for the run's metrics

    @classmethod
    def starting(cls, spec: ExperimentSpec, started_ms: int) -> LiveRecord:
        return cls(spec, Timeline(started_ms), GuardrailWatch(spec.guardrails))

    def judge_before(self, parts: LiveParts, now_ms: int) -> list[HypothesisResult]:
        """The steady state before injection, on the warm-up's traffic."""
        observed = parts.observed(now_ms, retries=bool(self.spec.http_routes))
        self.before = judge(self.spec.steady_state, observed, "before")
        return self.before

    def tick(self, parts: LiveParts, now: int) -> Tick:
        """Sample the run at `now`: the timeline, the recovery series, the guardrails."""
        observed = parts.observed(now, retries=bool(self.spec.http_routes))
        self.last_observed = observed
        anomalies = int(observed.value("anomalies.total") or 0)
        clean = _recovered(observed, parts)
        phase = self.timeline.phase
        if phase in ("inject", "recover", "settle"):
            self.clean_series.append((now, clean))
        faults = int(observed.value("faults.injected") or 0)
        forwarded = sum(observed.faults.values())
        held = parts.topics.held
        http = parts.http
        sample = Sample(
            now,
            phase,
            faults,
            forwarded,
            anomalies,
            held,
            self.intensity,
            http_faults=http.faults,
            http_requests=http.requests,
        )
        self.timeline.samples.append(sample)
        breach = self.guardrails.update(observed, now) if phase != "abort" else None
        failure = parts.topics.failure()
        elapsed = (now - self.timeline.started_ms) / 1000
        return Tick(
            breach=None if breach is None else breach.describe(),
            failure=None if failure is None else f"the interposer stopped: {failure}",
            progress=Progress(
                phase,
                elapsed,
                faults,
                anomalies,
                held,
                forwarded,
                self.intensity,
                read_failures=parts.observation.reads.failed,
            ),
        )

    def closing_look(self, parts: LiveParts, now: int) -> None:
        """The final read's place in the recovery series. The wind-down waits `settle_ms`
        (and a poll) past the service catching up so a recovery can be confirmed; the last
        periodic tick can fall up to a tick short of that, and the series would then end
        before the recovery had lasted `settle_ms` (time to recovery unknown by chance)."""
        observed = parts.observed(now, retries=bool(self.spec.http_routes))
        self.clean_series.append((now, _recovered(observed, parts)))

    def facts(
        self,
        parts: LiveParts,
        horizon_ms: int,
        *,
        run_id: str,
        actor: str,
        salt: bytes | None,
        abort_reason: str | None,
    ) -> RunFacts:
        """Everything the run observed, frozen at `horizon_ms`: the timeline closes there."""
        timeline = self.timeline
        timeline.close(horizon_ms)
        reports = parts.observation.verdict(horizon_ms, origin_ms=timeline.started_ms)
        inject_end = next((s for n, s, _ in timeline.phases if n == "recover"), None)
        ttr = (
            time_to_recovery(self.clean_series, inject_end, self.spec.monitor.settle_ms)
            if inject_end is not None and self.spec.routes  # topic checks recover
            else None
        )
        ended = timeline.phases[-1][2] if timeline.phases else None
        log_path = parts.http.log.path
        return RunFacts(
            run_id=run_id,
            actor=actor,
            window=Window(
                started_ms=timeline.started_ms,
                ended_ms=ended or timeline.started_ms,
                phases=tuple(timeline.spans()),
                timeline=tuple(timeline.points(parts.observation.latency)),
            ),
            checks=observed_checks(reports, salt),
            faults=parts.report_fault_counts(),
            faults_suppressed=parts.topics.suppressed_counts(),
            redelivered=parts.observation.redelivered(),
            reads=parts.observation.read_facts(),
            interposer_restarts=tuple(parts.topics.restarts),
            service=parts.observation.service_progress(inject_end),
            retries=parts.http.observation() if self.spec.http_routes else None,
            http_routes=tuple(parts.http.describe()),
            request_log=str(log_path) if log_path else None,
            before=tuple(self.before),
            time_to_recovery_s=ttr,
            guardrail_worst=dict(self.guardrails.worst),
            abort_reason=abort_reason,
        )


def _recovered(observed: Observed, parts: LiveParts) -> bool:
    """No unit is wrong now, and the service has caught up with what waits for it."""
    clean = all(r.anomalies.clean for r in observed.reports.values())
    return clean and parts.observation.service_caught_up()
