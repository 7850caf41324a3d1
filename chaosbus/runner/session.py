"""The live machinery of one run: interposer, readers, probes and the kill-switch watcher.

`LiveSession` is an async context manager: on entry everything is running and the proxy
has started; on exit the proxy has drained (held messages released, offsets committed) and
every reader and connection is closed. The runner drives phases through its methods.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack

from chaosbus.control.keys import DEFAULT_KEYS, Keys
from chaosbus.control.watch import ControlState, KillSwitchWatcher
from chaosbus.experiment.spec import ExperimentSpec
from chaosbus.observability import providers_from_environment
from chaosbus.runner.collector import Collector
from chaosbus.runner.preflight import routes_of
from chaosbus.runner.probes import Probe, redis_probe
from chaosbus.runner.readers import (
    TopicReader,
    end_positions,
    envelope_of,
    ledger_handler,
    start_positions,
)
from injectors.plan import FAULT_TYPES, FaultPlan
from monitors.errors import ProbeError
from streams.clock import Clock
from streams.decider import Decider
from streams.interposer import InterposerConfig
from streams.ledger_record import LEDGER_TOPIC
from streams.proxy import Proxy
from streams.routes import Route
from streams.telemetry import Telemetry

log = logging.getLogger(__name__)

OnControl = Callable[[ControlState, str], Awaitable[None]]


class LiveSession:
    def __init__(
        self,
        spec: ExperimentSpec,
        *,
        bootstrap: str,
        redis_url: str,
        probe_redis_url: str,
        run_id: str,
        key_prefix: str,
        clock: Clock,
        on_control: OnControl,
        control_keys: Keys = DEFAULT_KEYS,
    ) -> None:
        self.spec = spec
        self.run_id = run_id
        self.clock = clock
        self.collector = Collector(spec.monitor)
        self.plans = {
            route: FaultPlan(spec.faults, spec.blast_radius, spec.seed, route_id=route.route_id)
            for route in routes_of(spec)
        }
        for plan in self.plans.values():
            plan.intensity = 0.0  # warm-up is a passthrough until the runner says otherwise
        deciders: dict[Route, Decider] = dict(self.plans)
        config = InterposerConfig(bootstrap=bootstrap, run_id=run_id, group_id=spec.group_id)
        # OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set, so a run's faults show in traces too.
        self._providers = providers_from_environment("chaosbus-runner")
        self.proxy = Proxy(
            routes_of(spec),
            config,
            deciders=deciders,
            telemetry_for=lambda route: Telemetry(
                self._providers.tracer, self._providers.meter, route=route.name
            ),
        )
        self.starts: dict[int, int] = {}
        self._bootstrap = bootstrap
        self._redis_url = redis_url
        self._probe_url = probe_redis_url
        self._key_prefix = key_prefix
        self._on_control = on_control
        self._control_keys = control_keys
        self._stack = AsyncExitStack()
        self._stopping = asyncio.Event()
        self._proxy_task: asyncio.Task[object] | None = None
        self._poller: asyncio.Task[None] | None = None
        self._probes: dict[str, Probe] = {}

    # ---- lifetime ---------------------------------------------------------------------

    async def __aenter__(self) -> LiveSession:
        try:
            await self._start()
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def __aexit__(self, *_: object) -> None:
        try:
            await self.stop_proxy()
        finally:
            await self._stack.aclose()
            # Exports the spans still batched before the process ends.
            self._providers.shutdown()

    async def _start(self) -> None:
        source = self.spec.monitor.source_topic
        self.starts = await start_positions(self._bootstrap, source, self.spec.group_id)
        ledger_ends = await end_positions(self._bootstrap, LEDGER_TOPIC)
        await self._stack.enter_async_context(
            KillSwitchWatcher(self._redis_url, self._on_control, keys=self._control_keys)
        )
        await self._stack.enter_async_context(
            TopicReader(
                self._bootstrap,
                LEDGER_TOPIC,
                ledger_ends,
                ledger_handler(self.run_id, self.collector.feed_ledger),
            )
        )
        await self._stack.enter_async_context(
            TopicReader(
                self._bootstrap,
                source,
                self.starts,
                lambda record: self.collector.feed_source(envelope_of(record)),
            )
        )
        for check in self.spec.monitor.checks:
            probe = redis_probe(self._probe_url, check.probe, self._key_prefix)
            self._probes[check.name] = await self._stack.enter_async_context(probe)
        self._poller = asyncio.create_task(self._poll_loop(), name="chaosbus-probes")
        self._stack.push_async_callback(_cancel, self._poller)
        self._proxy_task = asyncio.create_task(
            self.proxy.run(self._stopping), name="chaosbus-proxy"
        )
        started = asyncio.create_task(self.proxy.started.wait())
        done, _ = await asyncio.wait(
            {self._proxy_task, started}, return_when=asyncio.FIRST_COMPLETED
        )
        if self._proxy_task in done:
            started.cancel()
            self._proxy_task.result()  # raises what stopped the proxy
            raise RuntimeError("the interposer stopped before it started")

    # ---- what the runner drives ----------------------------------------------------------

    def set_intensity(self, intensity: float) -> None:
        for plan in self.plans.values():
            plan.intensity = intensity

    async def stop_injecting(self) -> None:
        """The kill switch's action: no more faults, everything held released, now."""
        for plan in self.plans.values():
            plan.enabled = False
        for interposer in self.proxy.interposers:
            await interposer.set_injecting(False)

    @property
    def injecting(self) -> bool:
        return any(p.enabled and p.intensity > 0 for p in self.plans.values())

    @property
    def held(self) -> int:
        return sum(i.held for i in self.proxy.interposers)

    def report_fault_counts(self) -> dict[str, int]:
        """Decisions by fault for the report, and the messages the destination refused (a
        refused message was decided too, so it is counted apart, only when there are any)."""
        counts = self.fault_counts()
        refused = sum(i.counts.get("undeliverable", 0) for i in self.proxy.interposers)
        if refused:
            counts["undeliverable"] = refused
        return counts

    def fault_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(("pass", *FAULT_TYPES), 0)
        for interposer in self.proxy.interposers:
            for kind in counts:
                counts[kind] += interposer.counts.get(kind, 0)
        return counts

    def proxy_failure(self) -> BaseException | None:
        task = self._proxy_task
        if task is None or not task.done() or task.cancelled():
            return None
        return task.exception()

    async def observe(self, *, force: bool) -> None:
        """Read every known entity of every check once."""
        now = self.clock()
        for name, probe in self._probes.items():
            entities = self.collector.entities(name)
            try:
                observations = await probe.observe(entities, now)
            except ProbeError as exc:
                log.warning("probe %s: %s", name, exc)
                continue
            self.collector.feed_observations(name, observations, force=force)

    async def wait_caught_up(self, timeout_s: float) -> bool:
        """Wait until the ledger covers the source up to its end now; False on timeout."""
        ends = await end_positions(self._bootstrap, self.spec.monitor.source_topic)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while not self.collector.covers(ends, self.starts):
            if loop.time() >= deadline or self.proxy_failure() is not None:
                return False
            # The ledger reader is another task feeding the collector; there is no event.
            await asyncio.sleep(0.05)
        return True

    async def stop_proxy(self) -> None:
        """Stop the interposer: it releases what it holds, drains and commits."""
        self._stopping.set()
        if self._proxy_task is not None:
            with contextlib.suppress(Exception):
                await self._proxy_task

    async def _poll_loop(self) -> None:
        interval = self.spec.monitor.poll_ms / 1000
        while True:
            await self.observe(force=False)
            await asyncio.sleep(interval)


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
