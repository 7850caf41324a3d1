"""`chaosbus run`: preflight → warm-up → injection (ramped) → recovery → settle → verdict.

The steady state *before* is judged on the warm-up's passthrough traffic, at its end; the
steady state *after* is the batch verdict once the recovery has settled. Guardrails are
judged every tick from the live monitor. A guardrail breach, the kill switch, an
unreachable control plane or a signal aborts: injection stops at once (held messages are
released), the interposer keeps forwarding until it has caught up with the source, then
drains; the report says `aborted` and why. No message is lost on any path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from chaosbus.control.audit import new_entry
from chaosbus.control.errors import ControlPlaneUnreachable, NotPermitted
from chaosbus.control.keys import Keys
from chaosbus.control.plane import ControlPlane, control_plane
from chaosbus.control.watch import ControlState
from chaosbus.errors import ChaosbusError
from chaosbus.experiment.governance import NotifyEvent
from chaosbus.experiment.spec import ExperimentSpec
from chaosbus.monitors.metrics import time_to_recovery
from chaosbus.observability import Providers
from chaosbus.report.model import HypothesisResult, RunReport
from chaosbus.runner.guardrails import GuardrailWatch
from chaosbus.runner.notify import Notifier, hooks_from_environment
from chaosbus.runner.observe import Observed
from chaosbus.runner.preflight import preflight
from chaosbus.runner.progress import Progress
from chaosbus.runner.report_builder import build_report
from chaosbus.runner.retry_observation import RetryObservation
from chaosbus.runner.session import LiveSession
from chaosbus.runner.timeline import Sample, Timeline
from chaosbus.runner.verdict import describe, judge
from chaosbus.streams.clock import Clock, wall_clock_ms
from chaosbus.streams.connection import KafkaSettings
from chaosbus.streams.redaction import redact_url
from chaosbus.traffic.workload import Workload

log = logging.getLogger(__name__)

LIVE_LATENCY_WINDOW_MS = 5_000


@dataclass
class RunOptions:
    kafka: KafkaSettings
    redis_url: str = field(repr=False)  # URLs may carry a password: kept out of repr
    actor: str
    run_id: str | None = None
    key_prefix: str = ""  # put before every probe key: one file, several services
    # The service's Redis, when not the control plane's.
    probe_redis_url: str | None = field(default=None, repr=False)
    control_namespace: str = "chaosbus"  # tests isolate their kill switch and audit log
    content_sha256: str | None = None  # of the experiment file: what approvals are bound to
    label: str = "the experiment"  # the file as the user named it, for refusals
    share_route: bool = False  # run even when another live interposer reads a source
    tick_ms: int = 250
    catch_up_timeout_s: float = 15.0
    on_progress: Callable[[Progress], None] | None = None
    clock: Clock = field(default=wall_clock_ms)
    # Tracing and metrics of the run's interposer; None: OTLP from the environment, if set.
    # Given ones are the caller's to shut down (tests record spans in memory).
    providers: Providers | None = None
    # Where the HTTP routes' request log is written (JSON lines); None: kept in memory only.
    request_log: Path | None = None


class _Abort(Exception):
    pass


class ExperimentRun:
    def __init__(self, spec: ExperimentSpec, options: RunOptions) -> None:
        self.spec = spec
        self.options = options
        self.clock = options.clock
        self.run_id = options.run_id or uuid.uuid4().hex[:12]
        self.started_ms = self.clock()
        self.timeline = Timeline(self.started_ms)
        self.guardrails = GuardrailWatch(spec.guardrails)
        self.clean_series: list[tuple[int, bool]] = []
        self.intensity = 0.0
        self.before: list[HypothesisResult] = []
        self.abort_reason: str | None = None
        self._abort = asyncio.Event()
        self._session: LiveSession | None = None
        self.notifier = Notifier(
            [*spec.notify, *hooks_from_environment()], spec.name, self.run_id, clock=self.clock
        )
        # `workload:` (issue 26): files read now; sent from the injection to the recovery's end.
        self.workload = Workload.of(spec, options.kafka)

    async def run(self, interrupt: asyncio.Event | None = None) -> RunReport:
        o = self.options
        log.info(
            "run %s of %s: Kafka %s, control plane %s, probes read %s",
            self.run_id,
            self.spec.name,
            o.kafka.describe(),
            redact_url(o.redis_url),
            redact_url(o.probe_redis_url or o.redis_url),
        )
        async with control_plane(self.options.redis_url, self.options.control_namespace) as plane:
            self.timeline.enter("preflight", self.clock())
            try:
                await preflight(
                    self.spec,
                    self.options.kafka,
                    plane,
                    content_sha256=self.options.content_sha256,
                    label=self.options.label,
                    share_route=self.options.share_route,
                )
            except ChaosbusError as exc:
                await self._audit(plane, "refused", str(exc))
                raise
            # No audit entry, no faults: a start that cannot be recorded does not happen.
            await self._audit(plane, "start", None, required=True)
            try:
                self.notifier.notify("start")
                report = await self._run_live(interrupt)
                action: NotifyEvent = "abort" if report.status == "aborted" else "verdict"
                detail = f"{report.status}: {report.reason or 'ok'}"
                await self._audit(plane, action, detail)
                self.notifier.notify(action, detail)
            finally:
                await self.notifier.aclose()
            return report

    def request_abort(self, reason: str) -> None:
        if self.abort_reason is None:
            self.abort_reason = reason
            log.warning("aborting: %s", reason)
        self._abort.set()

    async def _run_live(self, interrupt: asyncio.Event | None) -> RunReport:
        o = self.options
        session = LiveSession(
            self.spec,
            kafka=o.kafka,
            redis_url=o.redis_url,
            probe_redis_url=o.probe_redis_url or o.redis_url,
            run_id=self.run_id,
            key_prefix=o.key_prefix,
            clock=self.clock,
            on_control=self._on_control,
            control_keys=Keys(o.control_namespace),
            providers=o.providers,
            request_log=o.request_log,
        )
        async with session:
            self._session = session
            ticker = asyncio.create_task(self._tick_loop(session))
            waiter = asyncio.create_task(self._on_interrupt(interrupt))
            try:
                await self._phases(session)
            except _Abort:
                await self._wind_down(session, "abort")
            finally:
                ticker.cancel()
                waiter.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await ticker
                await self.workload.stop()
                await session.stop_proxy()
            horizon = self.clock()
            self.timeline.close(horizon)
            reports = session.collector.verdict(horizon)
            inject_end = next((s for n, s, _ in self.timeline.phases if n == "recover"), None)
            ttr = (
                time_to_recovery(self.clean_series, inject_end, self.spec.monitor.settle_ms)
                if inject_end is not None and self.spec.routes  # topic checks recover
                else None
            )
            service = session.service_progress(inject_end)
            observed = Observed(
                reports,
                session.fault_counts(),
                0,
                None,
                ttr,
                service,
                retries=self._retries(session),
            )
            return build_report(self, session, reports, observed, self.before, ttr)

    async def _phases(self, session: LiveSession) -> None:
        schedule = self.spec.schedule
        self.timeline.enter("warmup", self.clock())
        await self._wait(schedule.warmup_s)
        self.before = before = judge(self.spec.steady_state, self._live_observed(session), "before")
        if any(result.held is False for result in before):
            self.request_abort(f"steady state did not hold before injection: {describe(before)}")
            raise _Abort
        self.timeline.enter("inject", self.clock())
        self.workload.start()
        steps = schedule.ramp.intensities() if schedule.ramp else [1.0]
        for intensity in steps:
            self.intensity = intensity
            session.set_intensity(intensity)
            await self._wait(schedule.inject_s / len(steps))
        self.intensity = 0.0
        self.timeline.enter("recover", self.clock())
        await session.stop_injecting()
        await self._wait(schedule.recover_s)
        await self._wind_down(session, "settle")

    async def _wind_down(self, session: LiveSession, phase: str) -> None:
        """Catch up with the source, let the last events settle, take a final look."""
        self.timeline.enter(phase, self.clock())
        await self.workload.stop()
        await session.stop_injecting()
        await session.wait_caught_up(self.options.catch_up_timeout_s)
        if phase == "settle":
            await session.wait_service_caught_up(self.options.catch_up_timeout_s)
            await self._wait(self.spec.monitor.settle_ms / 1000 + self.spec.monitor.poll_ms / 1000)
        await session.observe(force=True)

    async def _wait(self, seconds: float) -> None:
        """Sleep through a phase, or raise `_Abort` as soon as an abort is requested."""
        if self._abort.is_set():
            raise _Abort
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._abort.wait(), timeout=seconds)
        if self._abort.is_set():
            raise _Abort

    async def _on_control(self, state: ControlState, detail: str) -> None:
        if state == "clear":
            return
        # Stop injecting here, not in the next tick: the one-second promise.
        if self._session is not None:
            await self._session.stop_injecting()
        if state == "killed" and self.abort_reason is None:
            self.notifier.notify("kill", detail)  # in the background, after the halt
        self.request_abort(detail)

    async def _on_interrupt(self, interrupt: asyncio.Event | None) -> None:
        if interrupt is not None:
            await interrupt.wait()
            if self._session is not None:
                await self._session.stop_injecting()
            self.request_abort("interrupted by signal")

    def _live_observed(self, session: LiveSession) -> Observed:
        now = self.clock()
        window = session.collector.latency.window(now - LIVE_LATENCY_WINDOW_MS)
        reports = session.collector.snapshot(now)
        service = session.service_progress(None)
        return Observed(
            reports,
            session.fault_counts(),
            session.held,
            window,
            service=service,
            retries=self._retries(session),
        )

    def _retries(self, session: LiveSession) -> RetryObservation | None:
        return session.http.observation() if self.spec.http_routes else None

    async def _tick_loop(self, session: LiveSession) -> None:
        while True:
            await self._tick(session)
            await asyncio.sleep(self.options.tick_ms / 1000)

    async def _tick(self, session: LiveSession) -> None:
        now = self.clock()
        observed = self._live_observed(session)
        anomalies = int(observed.value("anomalies.total") or 0)
        clean = all(r.anomalies.clean for r in observed.reports.values())
        # Recovered includes the service having caught up with what waits for it.
        lag = session.collector.lag
        clean = clean and (lag is None or lag.caught_up_now())
        phase = self.timeline.phase
        if phase in ("inject", "recover", "settle"):
            self.clean_series.append((now, clean))
        faults = int(observed.value("faults.injected") or 0)
        forwarded = sum(session.fault_counts().values())
        sample = Sample(
            now,
            phase,
            faults,
            forwarded,
            anomalies,
            session.held,
            self.intensity,
            http_faults=session.http.faults,
            http_requests=session.http.requests,
        )
        self.timeline.samples.append(sample)
        if phase != "abort":
            breach = self.guardrails.update(observed, now)
            if breach is not None:
                self.request_abort(breach.describe())
                await session.stop_injecting()
        failure = session.proxy_failure()
        if failure is not None:
            self.request_abort(f"the interposer stopped: {failure}")
        if self.options.on_progress is not None:
            elapsed = (now - self.started_ms) / 1000
            self.options.on_progress(
                Progress(phase, elapsed, faults, anomalies, session.held, forwarded, self.intensity)
            )

    async def _audit(
        self, plane: ControlPlane, action: str, detail: str | None, *, required: bool = False
    ) -> None:
        entry = new_entry(
            action,  # type: ignore[arg-type]
            self.options.actor,
            self.clock(),
            run_id=self.run_id,
            experiment=self.spec.name,
            detail=detail,
        )
        try:
            await plane.audit(entry)
        except (ControlPlaneUnreachable, NotPermitted) as exc:
            if required:
                raise type(exc)(f"run refused: audit entry {action!r} not written: {exc}") from exc
            log.warning("audit entry %s not written: %s", action, exc)


async def run_experiment(
    spec: ExperimentSpec, options: RunOptions, interrupt: asyncio.Event | None = None
) -> RunReport:
    """Run one experiment end to end and return its report (never raises on a verdict)."""
    return await ExperimentRun(spec, options).run(interrupt)
