"""`chaosbus run`: preflight → warm-up → injection (ramped) → recovery → settle → verdict.

The steady state *before* is judged on the warm-up's passthrough traffic, at its end; the
steady state *after* is the batch verdict once the recovery has settled. Guardrails are
judged every tick from the live monitor. A guardrail breach, the kill switch, an
unreachable control plane or a signal aborts: injection stops at once (held messages are
released), the interposer keeps forwarding until it has caught up with the source, then
drains; the report says `aborted` and why. No message is lost on any path.

The live parts (observation, topic side, HTTP side) are opened here and driven through
`runner.live`; when the run is over, `LiveRecord.facts` freezes what it observed and
`runner.assembly.assemble` turns the facts into the report, as for `check`.

Preflight reads each check's probe once (`runner.probe_preflight`) and, with
`create_topics`, creates missing destinations; `--traffic CMD` starts the user's traffic
command as injection begins and stops it at the wind-down (`runner.traffic_command`).

The topic side runs in this process (`interposer="in-process"`, the library's default) or in
a child process the run restarts when it is killed (`"supervised"`, what `chaosbus run`
does: `runner.supervised_side`, decision 0271).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
import uuid
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from chaosbus.clients.connection import KafkaSettings
from chaosbus.clients.redaction import redact_url
from chaosbus.contracts.clock import Clock, wall_clock_ms
from chaosbus.control.audit import new_entry
from chaosbus.control.errors import ControlPlaneUnreachable, NotPermitted
from chaosbus.control.keys import Keys
from chaosbus.control.plane import ControlPlane, control_plane
from chaosbus.control.scopes import NOTHING_PAUSED, Paused
from chaosbus.control.watch import ControlState, KillSwitchWatcher
from chaosbus.errors import Aborted, ChaosbusError
from chaosbus.experiment.governance import NotifyEvent
from chaosbus.experiment.spec import ExperimentSpec
from chaosbus.monitors.probes.kind import ProbeContext
from chaosbus.observability import Providers
from chaosbus.report.model import RunReport
from chaosbus.runner.assembly import assemble
from chaosbus.runner.facts import FactsSink, RunFacts, new_salt
from chaosbus.runner.http_side import HttpSide
from chaosbus.runner.live import LiveParts, LiveRecord, TopicSides
from chaosbus.runner.notify import Notifier, hooks_from_environment
from chaosbus.runner.observation import LiveObservation
from chaosbus.runner.preflight import preflight, run_targets
from chaosbus.runner.progress import Progress
from chaosbus.runner.run_metrics import RunMetrics
from chaosbus.runner.supervised_side import SupervisedTopicSide
from chaosbus.runner.topic_side import TopicSide
from chaosbus.runner.traffic_command import TrafficCommand
from chaosbus.runner.verdict import describe
from chaosbus.traffic.workload import Workload

log = logging.getLogger(__name__)


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
    create_topics: bool = False  # create missing destinations with their source's partitions
    tick_ms: int = 250
    catch_up_timeout_s: float = 15.0
    on_progress: Callable[[Progress], None] | None = None
    clock: Clock = field(default=wall_clock_ms)
    # Tracing and metrics of the run's interposer; None: OTLP from the environment, if set.
    # Given ones are the caller's to shut down (tests record spans in memory).
    providers: Providers | None = None
    # Where the HTTP routes' request log is written (JSON lines); None: kept in memory only.
    request_log: Path | None = None
    # Handed the frozen facts before they are assembled (a run history stores them).
    on_facts: FactsSink | None = None
    # In this process, or a child process restarted when it dies (then `providers` do not
    # reach it: it traces and meters by the environment, as any interposer process does).
    interposer: Literal["in-process", "supervised"] = "in-process"
    # `--traffic CMD`: started when injection begins, its output to `traffic_output` (None:
    # the temporary directory, `chaosbus-RUN.traffic.log`); `runner.traffic_command`.
    traffic: str | None = None
    traffic_output: Path | None = None


def probe_context(options: RunOptions) -> ProbeContext:
    """Where a run's probes read: the service's Redis, or the control plane's."""
    o = options
    return ProbeContext(o.kafka, o.probe_redis_url or o.redis_url, o.key_prefix)


class _Abort(Aborted):
    """Ends the phases early; caught by the run itself, which reports `aborted`."""


class ExperimentRun:
    def __init__(self, spec: ExperimentSpec, options: RunOptions) -> None:
        self.spec = spec
        self.options = options
        self.clock = options.clock
        self.run_id = options.run_id or uuid.uuid4().hex[:12]
        self.record = LiveRecord.starting(spec, self.clock())
        self.abort_reason: str | None = None
        self._abort = asyncio.Event()
        self._live: LiveParts | None = None  # once every part is running
        self.notifier = Notifier(
            [*spec.notify, *hooks_from_environment()], spec.name, self.run_id, clock=self.clock
        )
        # `workload:` (issue 26): files read now; sent from the injection to the recovery's end.
        self.workload = Workload.of(spec, options.kafka)
        meter = options.providers.meter if options.providers else None
        self.metrics = RunMetrics(meter, spec) if meter is not None else None
        self.paused: Paused = NOTHING_PAUSED
        self.traffic = self._traffic_command()

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
            self.record.timeline.enter("preflight", self.clock())
            try:
                await preflight(
                    self.spec,
                    self.options.kafka,
                    plane,
                    content_sha256=self.options.content_sha256,
                    label=self.options.label,
                    share_route=self.options.share_route,
                    probes=probe_context(self.options),
                    now_ms=self.clock(),
                    create_topics=self.options.create_topics,
                )
            except ChaosbusError as exc:
                await self._audit(plane, "refused", str(exc))
                raise
            # No audit entry, no faults: a start that cannot be recorded does not happen.
            await self._audit(plane, "start", self._what_runs(plane), required=True)
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

    def _traffic_command(self) -> TrafficCommand | None:
        o = self.options
        if o.traffic is None:
            return None
        temporary = Path(tempfile.gettempdir()) / f"chaosbus-{self.run_id}.traffic.log"
        output = o.traffic_output or temporary
        env = {"CHAOSBUS_RUN_ID": self.run_id}
        if self.spec.routes:
            env["CHAOSBUS_SOURCE_TOPIC"] = self.spec.monitor.source_topic
        return TrafficCommand(o.traffic, output, env=env)

    async def _stop_traffic(self) -> None:
        if self.traffic is not None:
            await self.traffic.stop()

    @property
    def live(self) -> LiveParts | None:
        """The running parts (observation, topic side, HTTP side), once all are open."""
        return self._live

    def request_abort(self, reason: str) -> None:
        if self.abort_reason is None:
            self.abort_reason = reason
            log.warning("aborting: %s", reason)
        self._abort.set()

    async def _run_live(self, interrupt: asyncio.Event | None) -> RunReport:
        salt = new_salt(self.spec.privacy)  # the ledger's pseudonyms and the report's
        async with AsyncExitStack() as stack:
            self._live = live = await self._open_parts(stack, salt)
            ticker = asyncio.create_task(self._tick_loop(live))
            waiter = asyncio.create_task(self._on_interrupt(interrupt))
            try:
                await self._phases(live)
            except _Abort:
                await self._wind_down(live, "abort")
            finally:
                ticker.cancel()
                waiter.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await ticker
                await self.workload.stop()
                await self._stop_traffic()
                await live.topics.stop()
            facts = self.record.facts(
                live,
                self.clock(),
                run_id=self.run_id,
                actor=self.options.actor,
                salt=salt,
                abort_reason=self.abort_reason,
            )
            live.observation.say_failures()
            facts = self._with_traffic(facts)
        if self.options.on_facts is not None:
            self.options.on_facts(facts)
        return assemble(self.spec, facts)

    def _with_traffic(self, facts: RunFacts) -> RunFacts:
        """The traffic command's end, kept with the facts; one warning when it failed."""
        result = self.traffic.result() if self.traffic is not None else None
        if result is None:
            return facts
        if result.failed:
            log.warning("%s", result.describe())
        return facts.model_copy(update={"traffic": result})

    async def _open_parts(self, stack: AsyncExitStack, salt: bytes | None) -> LiveParts:
        """The kill switch watcher, then the observation (the source is read from where the
        interposer will start), the topic side (the interposer), the HTTP side."""
        o, spec = self.options, self.spec
        keys = Keys(o.control_namespace)
        await stack.enter_async_context(
            KillSwitchWatcher(o.redis_url, self._on_control, keys=keys, on_paused=self._on_paused)
        )
        observation = await stack.enter_async_context(
            LiveObservation(spec, run_id=self.run_id, probes=probe_context(o), clock=self.clock)
        )
        side: TopicSides
        if o.interposer == "supervised":
            side = SupervisedTopicSide(
                spec, kafka=o.kafka, run_id=self.run_id, clock=self.clock, salt=salt
            )
        else:
            side = TopicSide(
                spec, kafka=o.kafka, run_id=self.run_id, salt=salt, providers=o.providers
            )
        await stack.enter_async_context(side)
        # The HTTP routes' decisions go to the ledger only when the run has a Kafka side.
        ledger = o.kafka if spec.routes else None
        meter = o.providers.meter if o.providers else None
        http = await stack.enter_async_context(
            HttpSide(
                spec,
                run_id=self.run_id,
                clock=self.clock,
                log_path=o.request_log,
                ledger=ledger,
                meter_provider=meter,
                salt=salt,
            )
        )
        live = LiveParts(observation, side, http)
        live.apply_pauses(self.paused)  # what the watcher found before the parts existed
        return live

    async def _phases(self, live: LiveParts) -> None:
        schedule, timeline = self.spec.schedule, self.record.timeline
        timeline.enter("warmup", self.clock())
        await self._wait(schedule.warmup_s)
        before = self.record.judge_before(live, self.clock())
        if any(result.held is False for result in before):
            self.request_abort(f"steady state did not hold before injection: {describe(before)}")
            raise _Abort
        timeline.enter("inject", self.clock())
        self.workload.start()
        if self.traffic is not None:
            await self.traffic.start((self.clock() - self.record.timeline.started_ms) / 1000)
        steps = schedule.ramp.intensities() if schedule.ramp else [1.0]
        for intensity in steps:
            self.record.intensity = intensity
            if self.metrics is not None:
                self.metrics.intensity = intensity
            live.set_intensity(intensity)
            await self._wait(schedule.inject_s / len(steps))
        self.record.intensity = 0.0
        if self.metrics is not None:
            self.metrics.intensity = 0.0
        timeline.enter("recover", self.clock())
        await live.stop_injecting()
        await self._wait(schedule.recover_s)
        await self._wind_down(live, "settle")

    async def _wind_down(self, live: LiveParts, phase: str) -> None:
        """Catch up with the source, let the last events settle, take a final look. Whether
        the catch-up was reached, and whether each final read succeeded, are facts the
        verdict reads (a broker or a probe away must not give a `held`)."""
        self.record.timeline.enter(phase, self.clock())
        await self.workload.stop()
        await self._stop_traffic()
        await live.stop_injecting()
        timeout = self.options.catch_up_timeout_s
        observation = live.observation
        caught_up = await observation.wait_caught_up(
            timeout, failed=lambda: live.topics.failure() is not None
        )
        if not caught_up.reached:
            log.warning("the ledger could not be read to the source's end: %s", caught_up.detail)
        if phase == "settle":
            await observation.wait_service_caught_up(timeout)
            # settle_ms for the last events, a poll to read them after it, and a tick: the
            # recovery series sees the catch-up at its next tick and must then see settle_ms
            # of recovery before its closing look (`LiveRecord.closing_look`).
            monitor = self.spec.monitor
            await self._wait((monitor.settle_ms + monitor.poll_ms + self.options.tick_ms) / 1000)
        await observation.observe(final=True)
        if phase == "settle":
            self.record.closing_look(live, self.clock())

    async def _wait(self, seconds: float) -> None:
        """Sleep through a phase, or raise `_Abort` as soon as an abort is requested."""
        if self._abort.is_set():
            raise _Abort
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._abort.wait(), timeout=seconds)
        if self._abort.is_set():
            raise _Abort

    async def _on_paused(self, paused: Paused) -> None:
        """A scope paused or resumed (`chaosbus pause`): applied at once, the run goes on."""
        self.paused = paused
        if self._live is not None:
            self._live.apply_pauses(paused)

    async def _on_control(self, state: ControlState, detail: str) -> None:
        if self.metrics is not None:
            self.metrics.injection_off = state != "clear"
        if state == "clear":
            return
        # Stop injecting here, not in the next tick: the one-second promise.
        if self._live is not None:
            await self._live.stop_injecting()
        if state == "killed" and self.abort_reason is None:
            self.notifier.notify("kill", detail)  # in the background, after the halt
        self.request_abort(detail)

    async def _on_interrupt(self, interrupt: asyncio.Event | None) -> None:
        if interrupt is not None:
            await interrupt.wait()
            if self._live is not None:
                await self._live.stop_injecting()
            self.request_abort("interrupted by signal")

    async def _tick_loop(self, live: LiveParts) -> None:
        while True:
            await self._tick(live)
            await asyncio.sleep(self.options.tick_ms / 1000)

    async def _tick(self, live: LiveParts) -> None:
        tick = self.record.tick(live, self.clock())
        if self.metrics is not None:
            self.metrics.observed = self.record.last_observed
        if tick.breach is not None:
            self.request_abort(tick.breach)
            await live.stop_injecting()
        if tick.failure is not None:
            self.request_abort(tick.failure)
        if self.options.on_progress is not None:
            self.options.on_progress(tick.progress)

    def _what_runs(self, plane: ControlPlane) -> str:
        """The start entry's detail: the content's sha256 and the effective targets."""
        targets = run_targets(self.spec, self.options.kafka.bootstrap, plane.keys.namespace)
        return f"sha256 {self.options.content_sha256 or 'unknown'} targets {targets.text()}"

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
