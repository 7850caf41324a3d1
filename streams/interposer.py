"""One route's interposer: read → decide → pace → rebalance → kill switch, for both modes.

Everything a route does whatever its delivery mode is written here once: the read loop, the
Record→Envelope and event-id lookup (`contracts.records`), the decision and its telemetry,
backpressure and the status line (`streams.pacing`), the rebalance listener and the kill
switch. What happens to a decided message is the `Delivery`'s (`streams.delivery`):
`streams.at_least_once` or `streams.exactly_once.delivery`.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence

from aiokafka import ConsumerRebalanceListener, TopicPartition

from chaosbus.contracts.records import ConsumedRecord, envelope_of, event_id
from chaosbus.contracts.routes import Route
from chaosbus.streams.clients import group_consumer
from chaosbus.streams.config import InterposerConfig
from chaosbus.streams.decider import Decider, PassThrough
from chaosbus.streams.delivery import Delivery, RouteContext
from chaosbus.streams.pacing import Pacing, wait_ms
from chaosbus.streams.telemetry import trace_id_of
from chaosbus.streams.transport import Consumer

__all__ = ["InterposerConfig", "RouteInterposer"]


class RouteInterposer:
    """The consume → decide → deliver loop of one route."""

    def __init__(
        self,
        context: RouteContext,
        decider: Decider,
        delivery: Delivery,
        *,
        consumer_factory: Callable[[InterposerConfig], Consumer] = group_consumer,
    ) -> None:
        self.context = context
        self.decider = decider
        self.delivery = delivery
        # The transport: aiokafka's consumer, or `streams.memory` in unit tests.
        self._consumer_factory = consumer_factory
        self._release_requested = False
        self._lock = asyncio.Lock()
        config = context.config
        self._pacing = Pacing(
            context.route.name,
            context.counts,
            max_held_messages=config.max_held_messages,
            max_held_bytes=config.max_held_bytes,
            status_interval_ms=config.status_interval_ms,
        )
        self._consumer: Consumer | None = None
        # Where each partition's reading has got to, for the lag gauge.
        self._next_offsets: dict[TopicPartition, int] = {}
        self._release_cause = "stop"
        self._paused_faults: frozenset[str] = frozenset()
        context.telemetry.observe_held(
            lambda: self.held, lambda: self.delivery.held_bytes, lambda: self.lag
        )

    @property
    def route(self) -> Route:
        return self.context.route

    @property
    def counts(self) -> Counter[str]:
        return self.context.counts

    @property
    def held(self) -> int:
        """Copies held by faults: inside the fault plan, and queued or parked by delivery."""
        return self.delivery.held + self.decider.held_count

    @property
    def held_bytes(self) -> int:
        return self.delivery.held_bytes

    @property
    def in_flight(self) -> int:
        return self.delivery.in_flight

    @property
    def lag(self) -> int:
        """Messages of the owned partitions not read yet: each partition's high watermark
        (as of the last fetch) less where reading has got to."""
        consumer = self._consumer
        if consumer is None:
            return 0
        total = 0
        for tp in consumer.assignment():
            high = consumer.highwater(tp)
            if high is not None:
                total += max(0, high - self._next_offsets.get(tp, high))
        return total

    # ---- lifecycle -------------------------------------------------------------------

    async def run(self, stopping: asyncio.Event) -> None:
        consumer = self._consumer_factory(self.context.config)
        consumer.subscribe([self.route.source], listener=_Rebalance(self))
        delivery = self.delivery
        async with delivery.running(consumer):
            self._consumer = consumer
            await consumer.start()
            try:
                while not stopping.is_set() and delivery.failure is None:
                    batches = await consumer.getmany(
                        timeout_ms=self._wait_ms(), max_records=self.context.config.max_batch
                    )
                    async with self._lock:
                        await self._turn(batches)
                async with self._lock:
                    # A stop releases everything held; a failure settles and raises.
                    if delivery.failure is None:
                        await self._turn({}, release_all=True)
                    await delivery.drain()
            finally:
                self._consumer = None
                await consumer.stop()

    async def set_injecting(self, injecting: bool, cause: str = "kill switch") -> None:
        """The kill switch: stop deciding faults at once; the loop releases what is held.

        Not gated on the route's lock: a turn blocked on a slow or dead broker must not
        delay it. The next decision already passes; the release happens on the next turn.
        """
        self.decider.enabled = injecting
        if not injecting:
            self.request_release(cause)

    @property
    def scope(self) -> tuple[str, str]:
        """What `chaosbus pause --route` names: the source topic (it feeds one route)."""
        return "route", self.route.source

    def pause_faults(self, names: Collection[str], *, every: bool = False) -> None:
        """An operator's pause of named faults (`every`: the route's, all of them): the plan
        passes what they would take, and what the route holds is released when one of them
        is newly paused here."""
        declared = frozenset(self.decider.fault_names)
        if not every:
            declared &= frozenset(names)
        self.decider.pause(declared)
        if declared - self._paused_faults:
            self.request_release("pause")
        self._paused_faults = declared

    def request_release(self, cause: str) -> None:
        """Let everything held out on the next turn, as the kill switch does (a pause of a
        fault this route declares asks for it while the route goes on injecting)."""
        self._release_cause = cause
        self._release_requested = True

    # ---- one turn --------------------------------------------------------------------

    async def _turn(
        self,
        batches: Mapping[TopicPartition, Sequence[ConsumedRecord]],
        *,
        release_all: bool = False,
    ) -> None:
        context, decider, delivery = self.context, self.decider, self.delivery
        # Without a fault plan (a successor taking over) or with the kill switch engaged,
        # what an earlier process or turn held goes out at once, as a stop would send it.
        release_all = (
            release_all
            or self._release_requested
            or not decider.enabled
            or isinstance(decider, PassThrough)
        )
        requested, self._release_requested = self._release_requested, False
        now = context.clock()
        if release_all:
            held = self.held
            if held:
                cause = self._release_cause if requested else "stop"
                context.actions.released(held, cause if decider.enabled or requested else "off")
        delivery.open_turn(now, release_all=release_all)
        if release_all:
            delivery.release(decider.flush(now))
        counts, telemetry, actions, header = (
            context.counts,
            context.telemetry,
            context.actions,
            context.config.event_id_header,
        )
        next_offsets = self._next_offsets
        decide, accept = decider.decide, delivery.accept
        # Asked once a turn, not once a message: a pass that nothing traces, measures or
        # logs costs no call into telemetry or the action log.
        traced = telemetry.enabled or telemetry.measuring
        logged = actions.logs_decisions
        for tp, records in batches.items():
            if not delivery.readable(tp):
                continue  # read again from its committed offset once it is readable
            for record in records:
                envelope = envelope_of(record, counts)
                decision = decide(envelope, now)
                counts[decision.fault] += 1
                if traced:
                    expected = len(decision.emissions) + decision.held
                    trace_id = telemetry.decided(
                        envelope, decision.fault, expected, now, decision.fault_name
                    )
                else:
                    trace_id = trace_id_of(envelope.headers) if envelope.headers else None
                identifier = event_id(header, envelope)
                if logged:
                    actions.decided(envelope, decision, identifier, trace_id)
                accept(envelope, decision, event_id=identifier, trace_id=trace_id)
            if records:
                next_offsets[tp] = records[-1].offset + 1
        if not release_all:
            delivery.release(decider.poll(now))
        await delivery.close_turn()
        self._pace()

    def _pace(self) -> None:
        consumer, delivery = self._consumer, self.delivery
        if consumer is None:
            return
        # Every message read and not done counts: held, unacknowledged, failed.
        self._pacing.apply_backpressure(
            consumer, max(self.held, delivery.in_flight), delivery.held_bytes
        )
        unreadable = [tp for tp in consumer.assignment() if not delivery.readable(tp)]
        if unreadable:
            consumer.pause(*unreadable)  # resuming the rest must not resume these
        self._pacing.log_status_if_due(
            self.context.clock(), held=self.held, in_flight=delivery.in_flight
        )

    def _wait_ms(self) -> int:
        if self._release_requested:
            return 0
        return wait_ms(self.delivery.next_release_ms(), self.context.clock())

    # ---- rebalancing -----------------------------------------------------------------

    async def on_assigned(self, assigned: set[TopicPartition]) -> None:
        if assigned:
            async with self._lock:
                await self.delivery.assigned(assigned)

    async def on_revoked(self, revoked: set[TopicPartition]) -> None:
        if not revoked:
            return
        async with self._lock:
            # Hand over with nothing held: the plan can only flush all partitions at once,
            # and a copy it keeps must not come out here after the new owner sent it.
            try:
                await self._turn({}, release_all=True)
            finally:
                # Whatever the release did, the delivery forgets the revoked partitions:
                # committing one raises, and would stop commits on those still owned.
                await self.delivery.revoked(revoked)


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    """Hands partitions over only after everything read from them is out and committed."""

    def __init__(self, interposer: RouteInterposer) -> None:
        self._interposer = interposer

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._interposer.on_revoked(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self._interposer.on_assigned(assigned)
