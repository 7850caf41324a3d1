"""The live machinery of one run: interposer, readers, probes and the kill-switch watcher.

`LiveSession` is an async context manager: on entry everything is running and the proxy
has started; on exit the proxy has drained (held messages released, offsets committed) and
every reader and connection is closed. The runner drives phases through its methods.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path

from chaosbus.clients.connection import KafkaSettings
from chaosbus.contracts.clock import Clock
from chaosbus.contracts.ledger_record import LEDGER_TOPIC
from chaosbus.contracts.routes import Route
from chaosbus.control.keys import DEFAULT_KEYS, Keys
from chaosbus.control.watch import ControlState, KillSwitchWatcher
from chaosbus.errors import InvalidInput, Unreachable
from chaosbus.experiment.monitor import Probe as ProbeSpec
from chaosbus.experiment.spec import ExperimentSpec
from chaosbus.injectors.blast import CAPS
from chaosbus.injectors.envelope import Envelope
from chaosbus.injectors.plan import FAULT_TYPES, FaultPlan
from chaosbus.monitors.effect_snapshots import EffectSnapshots
from chaosbus.monitors.errors import MonitorError, ProbeError
from chaosbus.monitors.lag import ServiceProgress
from chaosbus.monitors.probes.group_lag import GroupLagReader
from chaosbus.monitors.probes.kafka_reader import EffectsConfig, effect_parser
from chaosbus.observability import Providers, providers_from_environment
from chaosbus.runner.collector import Collector
from chaosbus.runner.http_side import HttpSide
from chaosbus.runner.preflight import routes_of, topic_policy_of
from chaosbus.runner.probes import (
    EffectsProbe,
    Probe,
    effects_probe,
    effects_topic,
    probe_shape,
    state_probe,
)
from chaosbus.runner.readers import (
    TopicReader,
    end_positions,
    ledger_handler,
    start_positions,
)
from chaosbus.streams.decider import Decider
from chaosbus.streams.interposer import InterposerConfig
from chaosbus.streams.proxy import Proxy
from chaosbus.streams.telemetry import Telemetry

log = logging.getLogger(__name__)

OnControl = Callable[[ControlState, str], Awaitable[None]]


class LiveSession:
    def __init__(
        self,
        spec: ExperimentSpec,
        *,
        kafka: KafkaSettings,
        redis_url: str,
        probe_redis_url: str,
        run_id: str,
        key_prefix: str,
        clock: Clock,
        on_control: OnControl,
        control_keys: Keys = DEFAULT_KEYS,
        providers: Providers | None = None,
        request_log: Path | None = None,
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
        # A fresh salt per run, held in memory only: its pseudonyms cannot be linked to
        # another run's nor reversed by guessing once the run is over.
        self.salt = secrets.token_bytes(16) if spec.privacy.identifiers == "hashed" else None
        config = InterposerConfig(
            kafka=kafka,
            run_id=run_id,
            group_id=spec.group_id,
            max_held_messages=spec.blast_radius.max_held_messages,
            identifier_salt=self.salt,
            topics=topic_policy_of(spec),
        )
        # OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set, so a run's faults show in traces too.
        self._owns_providers = providers is None
        self._providers = providers or providers_from_environment("chaosbus-runner")
        self.proxy = Proxy(
            routes_of(spec),
            config,
            deciders=deciders,
            telemetry_for=lambda route: Telemetry(
                self._providers.tracer, self._providers.meter, route=route.name
            ),
        )
        # The HTTP routes; their decisions go to the ledger only when the run has a Kafka side.
        self.http = HttpSide(
            spec,
            run_id=run_id,
            clock=clock,
            log_path=request_log,
            ledger=kafka if spec.routes else None,
        )
        self.starts: dict[int, int] = {}
        self._kafka = kafka
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
        self._listings: dict[str, tuple[EffectsProbe, EffectSnapshots]] = {}
        self._lag: GroupLagReader | None = None

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
            if self._owns_providers:
                self._providers.shutdown()

    async def _start(self) -> None:
        if not self.spec.routes:
            # HTTP only: no topic, no ledger, no probe; Kafka is never touched.
            await self._stack.enter_async_context(
                KillSwitchWatcher(self._redis_url, self._on_control, keys=self._control_keys)
            )
            await self._stack.enter_async_context(self.http)
            return
        source = self.spec.monitor.source_topic
        self.starts = await start_positions(self._kafka, source, self.spec.group_id)
        ledger_ends = await end_positions(self._kafka, LEDGER_TOPIC)
        await self._stack.enter_async_context(
            KillSwitchWatcher(self._redis_url, self._on_control, keys=self._control_keys)
        )
        await self._stack.enter_async_context(
            TopicReader(
                self._kafka,
                LEDGER_TOPIC,
                ledger_ends,
                ledger_handler(self.run_id, self.collector.feed_ledger),
            )
        )
        await self._stack.enter_async_context(
            TopicReader(
                self._kafka,
                source,
                self.starts,
                self.collector.feed_source,
            )
        )
        await self._open_probes()
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
        await self._stack.enter_async_context(self.http)

    async def _open_probes(self) -> None:
        """Each check's probe: state read per entity, an effects listing (its first read is
        the baseline: effects from before the run are not the run's), or an effects topic
        read from its end now. Then the service group's lag reader, if one is named. A probe
        that cannot start is one line naming its check."""
        for check in self.spec.monitor.checks:
            try:
                await self._open_probe(check.name, check.probe)
            except ProbeError as exc:  # refused or untrusted is not worth a retry; silent is
                problem = Unreachable if exc.retriable else InvalidInput
                raise problem(f"check {check.name}: {exc}") from exc
            except MonitorError as exc:
                raise Unreachable(f"check {check.name}: {exc}") from exc
        group = self.spec.monitor.service_group
        if group is not None:
            source = self.spec.monitor.source_topic
            destination = next(r.destination for r in self.spec.routes if r.source == source)
            try:
                reader = GroupLagReader(self._kafka, group, destination)
                self._lag = await self._stack.enter_async_context(reader)
            except MonitorError as exc:
                raise Unreachable(f"monitor.service_group: {exc}") from exc

    async def _open_probe(self, name: str, config: ProbeSpec) -> None:
        shape = probe_shape(config)
        if shape == "state":
            probe = state_probe(config, self._probe_url, self._key_prefix)
            self._probes[name] = await self._stack.enter_async_context(probe)
        elif shape == "listing":
            listing = await self._stack.enter_async_context(effects_probe(config))
            baseline = await listing.effects(self.clock())
            self._listings[name] = (listing, EffectSnapshots(baseline))
        else:
            topic = effects_topic(config)
            assert topic is not None
            ends = await end_positions(self._kafka, topic.topic)
            if not ends:
                raise InvalidInput(f"check {name}: effects topic {topic.topic!r} does not exist")
            handler = self._effects_handler(name, topic)
            await self._stack.enter_async_context(
                TopicReader(self._kafka, topic.topic, ends, handler)
            )

    def _effects_handler(self, name: str, config: EffectsConfig) -> Callable[[Envelope], None]:
        parse = effect_parser(config)

        def handle(envelope: Envelope) -> None:
            effect = parse(envelope)
            if effect is None:
                self.collector.feed_effects(name, [], unreadable=1)
            else:
                self.collector.feed_effects(name, [effect])

        return handle

    # ---- what the runner drives ----------------------------------------------------------

    def set_intensity(self, intensity: float) -> None:
        for plan in self.plans.values():
            plan.intensity = intensity
        self.http.set_intensity(intensity)

    async def stop_injecting(self) -> None:
        """The kill switch's action: no more faults, everything held released, now."""
        for plan in self.plans.values():
            plan.enabled = False
        self.http.stop_injecting()
        for interposer in self.proxy.interposers:
            await interposer.set_injecting(False)

    @property
    def injecting(self) -> bool:
        kafka = any(p.enabled and p.intensity > 0 for p in self.plans.values())
        return kafka or self.http.injecting

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
        if not self.spec.routes:
            return self.http.fault_counts()  # HTTP only: no topic decision to count
        counts = dict.fromkeys(("pass", *FAULT_TYPES), 0)
        for interposer in self.proxy.interposers:
            for kind in counts:
                counts[kind] += interposer.counts.get(kind, 0)
        counts.update(self.http.fault_counts())  # `http.<type>` keys, with HTTP routes only
        return counts

    def suppressed_counts(self) -> dict[str, int]:
        """Faults each blast-radius cap turned into passes, summed over the routes."""
        counts = dict.fromkeys(CAPS, 0)
        for plan in self.plans.values():
            for cap, count in plan.suppressed.items():
                counts[cap] += count
        return counts

    def service_progress(self, since_ms: int | None) -> ServiceProgress | None:
        """The service group's lag so far (`since_ms`: the end of injection, if any)."""
        lag, group = self.collector.lag, self.spec.monitor.service_group
        if lag is None or group is None or self._lag is None:
            return None
        return lag.summary(group, self._lag.topic, since_ms)

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
        for name, (listing, snapshots) in self._listings.items():
            try:
                listed = await listing.effects(now)
            except ProbeError as exc:
                log.warning("probe %s: %s", name, exc)
                continue
            self.collector.feed_effects(name, snapshots.new(listed))
        await self.sample_lag(now)

    async def sample_lag(self, now: int) -> None:
        if self._lag is None or self.collector.lag is None:
            return
        try:
            self.collector.lag.add(await self._lag.sample(now))
        except MonitorError as exc:
            log.warning("service group lag: %s", exc)

    async def wait_caught_up(self, timeout_s: float) -> bool:
        """Wait until the ledger covers the source up to its end now; False on timeout."""
        if not self.spec.routes:
            return True  # nothing is held on the HTTP side
        ends = await end_positions(self._kafka, self.spec.monitor.source_topic)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while not self.collector.covers(ends, self.starts):
            if loop.time() >= deadline or self.proxy_failure() is not None:
                return False
            # The ledger reader is another task feeding the collector; there is no event.
            await asyncio.sleep(0.05)
        return True

    async def wait_service_caught_up(self, timeout_s: float) -> bool:
        """With `monitor.service_group`: wait until the service has committed everything
        the interposer wrote (so the last look sees what it did); False on timeout."""
        if self._lag is None:
            return True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            try:
                sample = await self._lag.sample(self.clock())
            except MonitorError as exc:
                log.warning("service group lag: %s", exc)
                return False
            if not any(sample.lag().values()):
                return True
            if loop.time() >= deadline:
                return False
            # Another process's progress: there is nothing to await but the next sample.
            await asyncio.sleep(self.spec.monitor.poll_ms / 1000)

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
