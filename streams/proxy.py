"""The interposer process: topic checks, one shared idempotent producer, a task per route."""

from __future__ import annotations

import asyncio
import gc
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError

from chaosbus.clients.connection import why_unreachable
from chaosbus.contracts.routes import Route
from chaosbus.streams.at_least_once import AtLeastOnce
from chaosbus.streams.clients import route_producer, stop_producer
from chaosbus.streams.config import InterposerConfig
from chaosbus.streams.decider import Decider, PassThrough
from chaosbus.streams.delivery import Delivery, RouteContext
from chaosbus.streams.exactly_once.delivery import ExactlyOnce
from chaosbus.streams.interposer import RouteInterposer
from chaosbus.streams.telemetry import Telemetry
from chaosbus.streams.topics import LEDGER_PARTITIONS, TopicAdmin, check_routes

__all__ = ["LEDGER_PARTITIONS", "Proxy", "ProxyReport", "freeze_startup_objects"]

_frozen = False


def freeze_startup_objects() -> None:
    """Keep what start-up allocated (modules, classes, ~120k objects) out of every later
    garbage collection: a full collection over them took 60-90 ms of CPU, and one such
    pause of the single-threaded loop set the proxy's p99 by itself (docs/decisions/0150).
    Once per process: the objects frozen are those alive at the first call."""
    global _frozen
    if not _frozen:
        gc.collect()
        gc.freeze()
        _frozen = True


@dataclass
class ProxyReport:
    counts: Counter[str] = field(default_factory=Counter)
    partition_counts: dict[str, int] = field(default_factory=dict)


class Proxy:
    """Runs every route until `stopping` is set, then drains and commits (exit 0 on SIGTERM).

    A route that fails (its destination refuses a message, policy `fail`) stops the others
    too, each draining as on SIGTERM, and its `RouteFailed` is raised from `run`.
    """

    def __init__(
        self,
        routes: Sequence[Route],
        config: InterposerConfig,
        *,
        deciders: Mapping[Route, Decider] | None = None,
        create_topics: bool = False,
        telemetry_for: Callable[[Route], Telemetry] | None = None,
        delivery: Literal["at-least-once", "exactly-once"] = "at-least-once",
    ) -> None:
        self.routes = list(routes)
        self.config = config
        self.create_topics = create_topics
        self._deciders = dict(deciders or {})
        self._telemetry_for = telemetry_for
        self.delivery = delivery
        self.interposers: list[RouteInterposer] = []
        self.started = asyncio.Event()
        self._limits: dict[str, int] = {}

    @property
    def deciders(self) -> list[tuple[str, Decider]]:
        """Each route's source and decider, which exist before the interposers do (the kill
        switch and the scoped switches gate them from the start)."""
        return [(route.source, decider) for route, decider in self._deciders.items()]

    async def prepare(self) -> dict[str, int]:
        async with TopicAdmin(self.config.kafka) as admin:
            policy = self.config.topics
            counts = await check_routes(
                admin, self.routes, create_destinations=self.create_topics, policy=policy
            )
            if self.config.ledger_enabled:
                await admin.ensure(self.config.ledger_topic, policy.shape("ledger"))
            self._limits = await admin.max_message_bytes(r.destination for r in self.routes)
        return counts

    async def run(self, stopping: asyncio.Event) -> ProxyReport:
        counts = await self.prepare()
        producer = route_producer(self.config)
        try:
            await producer.start()
        except KafkaConnectionError as exc:
            await producer.stop()
            raise await why_unreachable(self.config.kafka) from exc
        freeze_startup_objects()
        # One route failing stops the others (they drain); the failure is raised after.
        stop_all = asyncio.Event()

        async def route_task(interposer: RouteInterposer) -> None:
            try:
                await interposer.run(stop_all)
            finally:
                stop_all.set()

        async def relay() -> None:
            await stopping.wait()
            stop_all.set()

        relay_task = asyncio.create_task(relay())
        try:
            self.interposers = [
                self._interposer(route, producer, counts[route.source] == counts[route.destination])
                for route in self.routes
            ]
            self.started.set()
            results = await asyncio.gather(
                *(route_task(i) for i in self.interposers), return_exceptions=True
            )
        finally:
            relay_task.cancel()
            await stop_producer(producer)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        report = ProxyReport(partition_counts=counts)
        for interposer in self.interposers:
            report.counts.update(interposer.counts)
        return report

    def _interposer(
        self, route: Route, producer: AIOKafkaProducer, keep_partition: bool
    ) -> RouteInterposer:
        context = RouteContext(
            route,
            self.config,
            keep_partition,
            max_message_bytes=self._limits.get(route.destination),
        )
        if self._telemetry_for is not None:
            context.telemetry = self._telemetry_for(route)
        delivery: Delivery
        if self.delivery == "exactly-once":
            # Its own transactional producers per input partition; the shared one is unused.
            delivery = ExactlyOnce(context)
        else:
            delivery = AtLeastOnce(context, producer)
        return RouteInterposer(context, self._deciders.get(route) or PassThrough(), delivery)
