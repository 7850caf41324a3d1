"""The one report assembly: an experiment and the facts of one run → its `RunReport`.

`run`, `check` and HTTP-only runs all end here, so the same facts give the same report:
the steady state judged after (unless the run aborted), the status from `conclude`, the
checks' anomalies merged with the service's stalled partitions and the HTTP side's retry
anomalies, the guardrails with their worst values; the platform presets the experiment
used come from the experiment, not the facts (what their time was compressed by is a rule
of the run, not something it observed). Pure: no I/O, no clock.
"""

from __future__ import annotations

from datetime import UTC, datetime

from chaosbus.experiment.spec import ExperimentSpec
from chaosbus.monitors.report import Anomalies, Latency, Metrics
from chaosbus.report.model import GuardrailResult, HypothesisResult, RunReport
from chaosbus.runner.facts import RunFacts
from chaosbus.runner.http_verdict import with_retry_anomalies, with_retry_metrics
from chaosbus.runner.observe import Observed
from chaosbus.runner.verdict import conclude, judge, merge_anomalies, merge_metrics, with_service


def assemble(spec: ExperimentSpec, facts: RunFacts) -> RunReport:
    after = _after(spec, facts)
    verdict = conclude(
        after,
        facts.checks,
        abort_reason=facts.abort_reason,
        min_judged_share=spec.monitor.min_judged_share,
        service=facts.service,
        retries=facts.retries,
        topics=bool(spec.routes),
        reads=facts.reads,
    )
    window = facts.window
    return RunReport(
        name=spec.name,
        hypothesis=spec.hypothesis,
        status=verdict.status,
        reason=verdict.reason,
        run_id=facts.run_id,
        seed=spec.seed,
        actor=facts.actor,
        started_at=datetime.fromtimestamp(window.started_ms / 1000, tz=UTC).isoformat(
            timespec="seconds"
        ),
        started_ms=window.started_ms,
        duration_s=round((window.ended_ms - window.started_ms) / 1000, 3),
        routes=[f"{r.source} -> {r.destination}" for r in spec.routes],
        http_routes=list(facts.http_routes),
        request_log=facts.request_log,
        traffic=facts.traffic,
        hypotheses=[*facts.before, *after],
        anomalies=_anomalies(spec, facts),
        faults=dict(facts.faults),
        faults_suppressed=dict(facts.faults_suppressed),
        redelivered=facts.redelivered,
        metrics=with_retry_metrics(_metrics(facts), facts.retries),
        after_the_fact=not facts.live,
        guardrails=_guardrails(spec, facts),
        checks=dict(facts.checks),
        service=facts.service,
        reads=facts.reads,
        interposer_restarts=list(facts.interposer_restarts),
        phases=list(window.phases),
        timeline=list(window.timeline),
        platform_presets=list(spec.platform_presets),
    )


def _after(spec: ExperimentSpec, facts: RunFacts) -> list[HypothesisResult]:
    """The steady state after: none when the run aborted; none held (each `unknown`) when
    no check judged anything; after the fact (`live` False), without the bounds only a live
    run measures (`AFTER_THE_FACT_UNKNOWN`)."""
    if facts.abort_reason is not None:
        return []
    observed = Observed(
        facts.checks,
        facts.faults,
        time_to_recovery_s=facts.time_to_recovery_s,
        service=facts.service,
        retries=facts.retries,
    )
    judged = judge(spec.steady_state, observed, "after")
    if not facts.live:  # measured by a live run only: unknown after the fact, not judged
        judged = [r for r in judged if r.metric not in AFTER_THE_FACT_UNKNOWN]
    if spec.routes and not any(c.coverage.judged for c in facts.checks.values()):
        # `anomalies.total ≤ 0` is true of nothing judged; a table must not read `held`.
        # A bound that failed did so on what was read (a stall off the service's lag).
        judged = [r if r.held is False else r.model_copy(update={"held": None}) for r in judged]
    return judged


# A bound on these needs a run's live reads: first sightings timed as they happen, the
# series after injection. After the fact (`check`) they are unknown, and left out.
AFTER_THE_FACT_UNKNOWN = frozenset({"time_to_recovery_s", "latency_ms.p50", "latency_ms.p99"})


def _metrics(facts: RunFacts) -> Metrics:
    """The checks' metrics merged; after the fact without end-to-end latency (a first
    sighting at `check` time measures when check looked, not the service)."""
    merged = merge_metrics(facts.checks, facts.time_to_recovery_s)
    return merged if facts.live else merged.model_copy(update={"latency_ms": Latency()})


def _anomalies(spec: ExperimentSpec, facts: RunFacts) -> Anomalies:
    cap = spec.monitor.max_examples
    merged = with_service(merge_anomalies(facts.checks, cap), facts.service, cap)
    return with_retry_anomalies(merged, facts.retries, cap)


def _guardrails(spec: ExperimentSpec, facts: RunFacts) -> list[GuardrailResult]:
    """Each guardrail with its worst value; none after the fact (nothing watched them)."""
    if not facts.live:
        return []
    reason = facts.abort_reason or ""
    return [
        GuardrailResult(
            name=g.label,
            metric=g.metric,
            check=g.check,
            threshold=g.threshold,
            for_s=g.for_s,
            worst=facts.guardrail_worst.get(index),
            breached=reason.startswith(f"guardrail {g.label} "),
        )
        for index, g in enumerate(spec.guardrails)
    ]
