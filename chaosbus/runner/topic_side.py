"""The topic side of a run: the interposer of every topic route, with its fault plans.

`TopicSide` is an async context manager beside `HttpSide`: on entry the proxy runs and
has started (every plan passing everything: intensity 0, the warm-up); on exit it has
stopped, released what it held, drained and committed. The runner drives it with the HTTP
side: `set_intensity` through the injection phase, `stop_injecting` on recovery, the kill
switch, a guardrail or a signal; `stop` ends the proxy before the verdict. Without topic
routes (an HTTP-only run) it runs nothing and counts nothing.
"""

from __future__ import annotations

import asyncio
import logging
from types import TracebackType
from typing import Self

from chaosbus.clients.connection import KafkaSettings
from chaosbus.clients.consumers import cancelled_by_caller
from chaosbus.contracts.routes import Route
from chaosbus.control.scopes import Paused, Scope
from chaosbus.experiment.spec import ExperimentSpec
from chaosbus.injectors.blast import CAPS
from chaosbus.injectors.plan import FAULT_TYPES, FaultPlan
from chaosbus.observability import Providers, providers_from_environment
from chaosbus.runner.preflight import routes_of, topic_policy_of
from chaosbus.streams.decider import Decider
from chaosbus.streams.interposer import InterposerConfig
from chaosbus.streams.proxy import Proxy
from chaosbus.streams.telemetry import Telemetry

log = logging.getLogger(__name__)


class TopicSide:
    def __init__(
        self,
        spec: ExperimentSpec,
        *,
        kafka: KafkaSettings,
        run_id: str,
        salt: bytes | None = None,  # `privacy: hashed`: the ledger's pseudonyms
        providers: Providers | None = None,  # None: OTLP from the environment, if set
    ) -> None:
        self.routes = routes_of(spec)
        self.plans = {
            route: FaultPlan(spec.faults, spec.blast_radius, spec.seed, route_id=route.route_id)
            for route in self.routes
        }
        for plan in self.plans.values():
            plan.intensity = 0.0  # warm-up is a passthrough until the runner says otherwise
        config = InterposerConfig(
            kafka=kafka,
            run_id=run_id,
            group_id=spec.group_id,
            max_held_messages=spec.blast_radius.max_held_messages,
            identifier_salt=salt,
            topics=topic_policy_of(spec),
        )
        # OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set, so a run's faults show in traces too.
        self._owns_providers = providers is None
        self._providers = providers or providers_from_environment("chaosbus-runner")
        deciders: dict[Route, Decider] = dict(self.plans)
        self.proxy = Proxy(
            self.routes,
            config,
            deciders=deciders,
            telemetry_for=lambda route: Telemetry(
                self._providers.tracer,
                self._providers.meter,
                route=route.name,
                sample_ratio=self._providers.trace_sample_ratio,
            ),
        )
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[object] | None = None
        # In-process, the interposer dies with the runner: never restarted (decision 0271).
        self.restarts: list[str] = []

    async def __aenter__(self) -> Self:
        if not self.routes:
            return self
        self._task = asyncio.create_task(self.proxy.run(self._stopping), name="chaosbus-proxy")
        started = asyncio.create_task(self.proxy.started.wait())
        done, _ = await asyncio.wait({self._task, started}, return_when=asyncio.FIRST_COMPLETED)
        if self._task in done:
            started.cancel()
            self._shutdown_providers()
            self._task.result()  # raises what stopped the proxy
            raise RuntimeError("the interposer stopped before it started")
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            await self.stop()
        finally:
            self._shutdown_providers()  # exports the spans still batched

    def set_intensity(self, intensity: float) -> None:
        for plan in self.plans.values():
            plan.intensity = intensity

    async def stop_injecting(self) -> None:
        """No more faults, everything held released, now (the kill switch's promise)."""
        for plan in self.plans.values():
            plan.enabled = False
        for interposer in self.proxy.interposers:
            await interposer.set_injecting(False)

    def apply_pauses(self, paused: Paused) -> None:
        """The scoped switches: a paused fault passes on every route, a paused route passes
        all its faults; a route that newly pauses one releases what it holds."""
        faults = paused.names("fault")
        for interposer in self.proxy.interposers:
            interposer.pause_faults(
                faults, every=paused.covers(Scope("route", interposer.route.source))
            )
        started = {i.route for i in self.proxy.interposers}
        for route, plan in self.plans.items():
            if route not in started:  # gated before its interposer exists
                plan.pause(
                    plan.fault_names if paused.covers(Scope("route", route.source)) else faults
                )

    @property
    def injecting(self) -> bool:
        return any(p.enabled and p.intensity > 0 for p in self.plans.values())

    @property
    def held(self) -> int:
        return sum(i.held for i in self.proxy.interposers)

    def fault_counts(self) -> dict[str, int]:
        """Decisions by type, `pass` included, summed over the routes; {} without routes."""
        if not self.routes:
            return {}
        counts = dict.fromkeys(("pass", *FAULT_TYPES), 0)
        for interposer in self.proxy.interposers:
            for kind in counts:
                counts[kind] += interposer.counts.get(kind, 0)
        return counts

    def refused(self) -> int:
        """Messages the destination refused (each was decided too, so counted apart)."""
        return sum(i.counts.get("undeliverable", 0) for i in self.proxy.interposers)

    def suppressed_counts(self) -> dict[str, int]:
        """Faults each blast-radius cap turned into passes, summed over the routes."""
        counts = dict.fromkeys(CAPS, 0)
        for plan in self.plans.values():
            for cap, count in plan.suppressed.items():
                counts[cap] += count
        return counts

    def failure(self) -> BaseException | None:
        """What stopped the proxy before it was asked to stop, if anything did."""
        task = self._task
        if task is None or not task.done() or task.cancelled():
            return None
        return task.exception()

    async def stop(self) -> None:
        """Stop the interposer: it releases what it holds, drains and commits.

        A proxy that ends with the Kafka client's own cancellation (aiokafka can raise one
        from `stop()` when a broker went away: `clients.consumers.KafkaConsumer`) ended
        all the same; only a cancellation of the caller propagates. What it had not
        committed is read again by the group's next reader: nothing is lost."""
        self._stopping.set()
        if self._task is not None:
            try:
                await self._task
            except asyncio.CancelledError:
                if cancelled_by_caller():
                    raise
                log.debug("the interposer ended with the Kafka client's own cancellation")
            except Exception:
                log.debug("the interposer ended with an error", exc_info=True)

    def _shutdown_providers(self) -> None:
        if self._owns_providers:
            self._owns_providers = False
            self._providers.shutdown()
