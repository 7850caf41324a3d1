"""Exactly-once delivery: one transaction per input partition per turn, held copies parked.

Each turn, for each input partition with something to do, one short transaction on that
partition's producer holds: the copies due now (sent to the destination, or to the
dead-letter topic when too large for it), the copies due later (parked in the compacted
parked topic), parked copies whose time came (sent, and their parked record rewritten or
tombstoned), the ledger records of messages whose last copy went out, and the input offset
after the last message read. Nothing is held inside an open transaction: a held copy lives
in the parked topic between transactions, so a crash loses nothing (the parked record is
committed with the offset that skips its source) and duplicates nothing (a copy is sent in
the same transaction that removes it from parking).

The committed parked set is mirrored in memory; a transaction's changes are planned in a
`PartitionWork` and applied to the mirror only after the commit, so an abort needs no undo
beyond `seek_to_committed` (aiokafka does not rewind the fetch position itself).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import NamedTuple

from aiokafka import TopicPartition
from aiokafka.errors import KafkaError

from chaosbus.clients.consumers import cancelled_by_caller
from chaosbus.injectors.envelope import Emission, Envelope, SourceCoordinates
from chaosbus.streams.clients import transactional_producer
from chaosbus.streams.config import InterposerConfig
from chaosbus.streams.decider import DecisionLike
from chaosbus.streams.delivery import RouteContext
from chaosbus.streams.exactly_once.parked import ParkedSource, ParkedUnreadable, parked_topic
from chaosbus.streams.exactly_once.parked_store import KafkaParkedStore, ParkedStore
from chaosbus.streams.exactly_once.producers import PartitionProducers
from chaosbus.streams.exactly_once.work import PartitionWork
from chaosbus.streams.release_schedule import ReleaseSchedule
from chaosbus.streams.transport import Consumer, RecordMetadata, TransactionalProducer
from chaosbus.streams.undeliverable import (
    UNDELIVERABLE,
    RouteFailed,
    dead_letter_headers,
    failure_line,
    is_refusal,
    reason_of,
)

log = logging.getLogger("chaosbus.streams.interposer")

# A partition whose parked set could not be rebuilt is retried this often, never skipped.
REBUILD_RETRY_MS = 2_000


class Due(NamedTuple):
    """A parked copy's place in the release schedule."""

    release_at_ms: int
    source: SourceCoordinates
    copy_number: int


def _release_at(entry: Due) -> int:
    return entry.release_at_ms


def _parked_bytes(record: ParkedSource) -> int:
    # base64 is 4/3 of the bytes it carries; what counts is what the mirror keeps in memory.
    return len(record.value_b64 or "") + len(record.key_b64 or "") + 64


class ExactlyOnce:
    """The exactly-once `Delivery` of one route: its own transactional producers."""

    def __init__(
        self,
        context: RouteContext,
        *,
        rebuild_timeout_s: float = 60.0,
        producer_factory: Callable[[InterposerConfig, str], TransactionalProducer] = (
            transactional_producer
        ),
        parked_store: ParkedStore | None = None,
    ) -> None:
        self._context = context
        # The transport: aiokafka and the broker's parked topic, or `streams.memory`.
        self._producer_factory = producer_factory
        self._store = parked_store or KafkaParkedStore(context.config.kafka, context.config.topics)
        self._route = context.route
        self._config = context.config
        self._counts = context.counts
        self._clock = context.clock
        self._telemetry = context.telemetry
        self._parked_topic = parked_topic(self._config.group_id)
        self._parked: dict[SourceCoordinates, ParkedSource] = {}
        self._held = 0
        self._held_bytes = 0
        self._rebuild_timeout_s = rebuild_timeout_s
        # Assigned partitions whose parked set could not be read: paused, retried, never
        # processed without it (their parked copies would be lost).
        self._unready: set[TopicPartition] = set()
        self._retry_rebuild_at_ms = 0
        self._schedule: ReleaseSchedule[Due] = ReleaseSchedule(_release_at)
        # Copies the plan let out into a transaction that aborted: the plan no longer has
        # them, so they are offered again on the next turn.
        self._retry_plan: list[Emission] = []
        self._failure: RouteFailed | None = None
        self._consumer: Consumer | None = None
        self._producers: PartitionProducers | None = None
        # The turn being planned: one work per input partition, and the schedule entries
        # it took (put back if its transaction aborts).
        self._now = 0
        self._release_all = False
        self._works: dict[TopicPartition, PartitionWork] = {}
        self._popped: dict[TopicPartition, list[Due]] = {}

    # ---- what the loop reads ---------------------------------------------------------

    @property
    def failure(self) -> RouteFailed | None:
        return self._failure

    @property
    def held(self) -> int:
        return self._held

    @property
    def held_bytes(self) -> int:
        return self._held_bytes

    @property
    def in_flight(self) -> int:
        # Messages still owed copies: parked between transactions.
        return len(self._parked)

    @asynccontextmanager
    async def running(self, consumer: Consumer) -> AsyncIterator[None]:
        await self._store.ensure(self._parked_topic)
        async with PartitionProducers(self._config, self._producer_factory) as producers:
            self._producers = producers
            self._consumer = consumer
            try:
                yield
            finally:
                self._consumer = None
                self._producers = None

    def readable(self, tp: TopicPartition) -> bool:
        producers = self._producers
        # Revoked meanwhile (its new owner has it), or its parked set is not rebuilt yet.
        return producers is not None and tp in producers and tp not in self._unready

    def next_release_ms(self) -> int | None:
        if self._unready and self._retry_rebuild_at_ms <= self._clock():
            return 0
        return self._schedule.next_release_ms()

    # ---- one turn --------------------------------------------------------------------

    def open_turn(self, now_ms: int, *, release_all: bool) -> None:
        self._now = now_ms
        self._release_all = release_all
        self._works = {}
        self._popped = {}
        retry, self._retry_plan = self._retry_plan, []
        self.release(retry)

    def _work(self, source: SourceCoordinates) -> tuple[TopicPartition, PartitionWork] | None:
        tp = TopicPartition(source.topic, source.partition)
        if not self.readable(tp):
            return None
        work = self._works.get(tp)
        if work is None:
            work = PartitionWork(self._parked, self._now, release_all=self._release_all)
            self._works[tp] = work
        return tp, work

    def accept(
        self, envelope: Envelope, decision: DecisionLike, *, event_id: str, trace_id: str | None
    ) -> None:
        if self._failure is not None:
            return  # the route stops: nothing past the refused message is decided
        route = self._route
        if route.dead_letter is None and decision.emissions:
            reason = self._context.too_large(envelope)
            if reason is not None:
                # Found before the transaction: the messages before it still commit.
                line = failure_line(route.name, envelope, route.destination, reason)
                log.error("%s", line)
                self._context.actions.refused(envelope, reason, None)
                self._telemetry.refused(dead_lettered=False)
                self._failure = RouteFailed(line)
                return
        found = self._work(envelope.source)
        if found is not None:
            found[1].decide(envelope, decision, event_id, trace_id=trace_id)

    def release(self, emissions: Sequence[Emission]) -> None:
        for emission in emissions:
            found = self._work(emission.envelope.source)
            if found is not None:
                found[1].plan_released(emission)

    async def close_turn(self) -> None:
        await self._rebuild_unready_if_due()
        schedule = self._schedule
        due = schedule.pop_all() if self._release_all else schedule.pop_due(self._now)
        for entry in due:
            found = self._work(entry.source)
            if found is not None and found[1].release(entry.source, entry.copy_number):
                self._popped.setdefault(found[0], []).append(entry)
        for tp, work in self._works.items():
            if work.empty:
                continue
            if await self._transact(tp, work):
                self._committed(work)
            else:
                # The decisions are made again when the messages are read again.
                self._counts.subtract(work.faults)
                self._retry_plan.extend(work.from_plan)
                schedule.push_all(self._popped.get(tp, []))
        self._works = {}

    async def _transact(self, tp: TopicPartition, work: PartitionWork) -> bool:
        """Run one partition's work as one transaction; False when it was aborted."""
        assert self._producers is not None
        producer = self._producers[tp]
        config = self._config
        begun = False
        started = time.perf_counter()
        try:
            await producer.begin_transaction()
            begun = True
            futures = [await self._send(producer, work, emission) for emission in work.to_send]
            # A transactional send is acknowledged (with its offset) before the commit; an
            # aborted transaction takes the ledger records naming those offsets with it.
            for emission, metadata in zip(
                work.to_send, await asyncio.gather(*futures), strict=True
            ):
                if metadata.topic == self._route.destination:
                    work.sent(emission, partition=metadata.partition, offset=metadata.offset)
            tail = [
                await producer.send(self._parked_topic, key=key, value=value)
                for key, value in work.parked_writes()
            ]
            if config.ledger_enabled:
                records = work.ledger_records(
                    run_id=config.run_id, route=self._route.name, salt=config.identifier_salt
                )
                for record in records:
                    tail.append(
                        await producer.send(
                            config.ledger_topic, key=record.key, value=record.payload
                        )
                    )
            await asyncio.gather(*tail)
            if work.next_offset is not None:
                await producer.send_offsets_to_transaction({tp: work.next_offset}, config.group_id)
            await producer.commit_transaction()
            took_ms = (time.perf_counter() - started) * 1000
            self._telemetry.committed(took_ms)
            if work.next_offset is not None:
                committed = {(tp.topic, tp.partition): work.next_offset}
                self._context.actions.committed(committed, took_ms)
            return True
        except asyncio.CancelledError as exc:
            if cancelled_by_caller():
                raise  # the route is being stopped
            # A future the client cancelled itself (a send in flight to a broker that was
            # killed): retriable, like a KafkaError, not the end of the route task.
            await self._abort(tp, producer, work, exc, begun=begun)
            return False
        except (KafkaError, RouteFailed) as exc:
            await self._abort(tp, producer, work, exc, begun=begun)
            return False

    async def _abort(
        self,
        tp: TopicPartition,
        producer: TransactionalProducer,
        work: PartitionWork,
        exc: BaseException,
        *,
        begun: bool,
    ) -> None:
        refused = isinstance(exc, RouteFailed) or is_refusal(exc)
        if not refused:
            log.warning("transaction on %s aborted, will retry: %r", tp, exc)
        self._counts["aborted"] += 1
        if begun:
            # A fenced producer cannot abort: it raises, and this zombie process stops.
            await producer.abort_transaction()
        if refused:
            # Sending it again cannot succeed: the route stops, nothing past it committed.
            self._failure = self._refused(tp, work, exc)
        consumer = self._consumer
        if consumer is not None and tp in consumer.assignment():
            await consumer.seek_to_committed(tp)

    def _refused(self, tp: TopicPartition, work: PartitionWork, exc: BaseException) -> RouteFailed:
        if isinstance(exc, RouteFailed):
            log.error("%s", exc)
            return exc
        lowest = min(e.envelope.source.offset for e in work.to_send) if work.to_send else None
        line = (
            f"route {self._route.name}: {self._route.destination} refused a transaction of "
            f"{tp.topic} partition {tp.partition} (from offset {lowest}): {reason_of(exc)}; "
            "nothing past it is committed"
        )
        log.error("%s", line)
        return RouteFailed(line)

    async def _send(
        self, producer: TransactionalProducer, work: PartitionWork, emission: Emission
    ) -> asyncio.Future[RecordMetadata]:
        envelope, route = emission.envelope, self._route
        reason = self._context.too_large(envelope)
        if reason is not None:
            if route.dead_letter is None:
                raise RouteFailed(failure_line(route.name, envelope, route.destination, reason))
            # In the same transaction as the rest: dead-lettered exactly once.
            work.undelivered(emission, reason)
            return await producer.send(
                route.dead_letter,
                value=envelope.value,
                key=envelope.key,
                timestamp_ms=envelope.timestamp_ms,
                headers=dead_letter_headers(envelope, route.destination, reason),
            )
        return await producer.send(
            route.destination,
            value=envelope.value,
            key=envelope.key,
            partition=envelope.source.partition if self._context.keep_partition else None,
            timestamp_ms=envelope.timestamp_ms,
            headers=self._telemetry.outgoing_headers(envelope, emission),
        )

    def _committed(self, work: PartitionWork) -> None:
        for source, draft in work.drafts.items():
            old = self._parked.get(source)
            self._held += (0 if draft.complete else draft.held) - (old.held if old else 0)
            self._held_bytes += (
                0 if draft.complete or not draft.held else _parked_bytes(draft)
            ) - (_parked_bytes(old) if old and old.held else 0)
        work.apply_to(self._parked)
        for source, copy in work.newly_parked:
            self._schedule.push(Due(copy.release_at_ms, source, copy.copy_number))
        now = self._context.clock()
        for emission in work.to_send:
            self._telemetry.emitted(emission)
            self._context.actions.emitted(emission, now_ms=now, partition=None, offset=None)
        self._counts["parked"] += len(work.newly_parked)
        self._counts["stale"] += work.stale
        self._counts[UNDELIVERABLE] += work.undelivered_count
        for _ in range(work.undelivered_count):
            self._telemetry.refused(dead_lettered=self._route.dead_letter is not None)

    # ---- stopping --------------------------------------------------------------------

    async def drain(self) -> None:
        # Each turn commits what it did: after the loop's last (release-all) turn nothing
        # is left to wait for; a failure stops the route with nothing past it committed.
        if self._failure is not None:
            raise self._failure

    # ---- rebalancing -----------------------------------------------------------------

    async def assigned(self, partitions: set[TopicPartition]) -> None:
        if self._producers is None:
            return
        # Producers first: their start fences the previous owner and aborts its open
        # transaction, so the parked topic's last stable offset can move past it.
        await self._producers.add(partitions)
        await self._rebuild(set(partitions))

    async def _rebuild(self, partitions: set[TopicPartition]) -> None:
        """Take over the parked set of `partitions`; on failure they stop, loudly, and retry."""
        wanted = {(tp.topic, tp.partition) for tp in partitions}
        unreadable: dict[tuple[str, int], str] = {}
        try:
            parked = await self._store.read(
                self._parked_topic,
                wanted,
                timeout_s=self._rebuild_timeout_s,
                unreadable=unreadable,
            )
        except (ParkedUnreadable, TimeoutError, KafkaError) as exc:
            self._stop_partitions(partitions, str(exc) or type(exc).__name__)
            return
        if unreadable:
            stopped = {TopicPartition(t, p) for t, p in unreadable}
            self._stop_partitions(stopped, "; ".join(sorted(unreadable.values())))
            partitions = partitions - stopped
        await self._take_over(partitions, parked)

    def _stop_partitions(self, partitions: set[TopicPartition], why: str) -> None:
        """Partitions whose parked set is unknown: paused and retried, never read without it."""
        self._counts["rebuild_failed"] += 1
        self._unready |= partitions
        self._retry_rebuild_at_ms = self._clock() + REBUILD_RETRY_MS
        if self._consumer is not None:
            self._consumer.pause(*partitions)
        names = ", ".join(f"{tp.topic}[{tp.partition}]" for tp in sorted(partitions))
        log.error(
            "%s: %s stopped: the parked set of %s could not be rebuilt (%s); retrying every "
            "%d s, nothing is read from these partitions meanwhile",
            self._route.name,
            names,
            self._parked_topic,
            why,
            REBUILD_RETRY_MS // 1000,
        )

    async def _take_over(
        self, partitions: set[TopicPartition], parked: dict[SourceCoordinates, ParkedSource]
    ) -> None:
        recovered = partitions & self._unready
        self._unready -= partitions
        consumer = self._consumer
        if recovered and consumer is not None:
            # Records fetched while it was stopped were skipped: read them again.
            for tp in recovered:
                committed = await consumer.committed(tp)
                if committed is not None:
                    consumer.seek(tp, committed)
                elif self._config.start_from == "earliest":
                    await consumer.seek_to_beginning(tp)
                else:
                    await consumer.seek_to_end(tp)
            consumer.resume(*recovered)
            log.info("%s: %d partitions rebuilt, reading again", self._route.name, len(recovered))
        owned = {(tp.topic, tp.partition) for tp in partitions}
        now = self._clock()
        taken = 0
        for source, record in parked.items():
            if (source.topic, source.partition) not in owned:
                continue
            taken += 1
            record = record.orphaned_plan_copies(now)
            old = self._parked.get(source)
            self._held += record.held - (old.held if old else 0)
            self._held_bytes += _parked_bytes(record) - (_parked_bytes(old) if old else 0)
            self._parked[source] = record
            for copy in record.parked:
                self._schedule.push(Due(copy.release_at_ms, source, copy.copy_number))
        if taken:
            log.info("%s: %d parked messages taken over", self._route.name, taken)

    async def _rebuild_unready_if_due(self) -> None:
        if self._unready and self._clock() >= self._retry_rebuild_at_ms:
            owned = self._consumer.assignment() if self._consumer is not None else set()
            self._unready &= owned
            if self._unready:
                await self._rebuild(set(self._unready))

    async def revoked(self, partitions: set[TopicPartition]) -> None:
        if self._producers is None:
            return
        await self._producers.remove(partitions)
        self._unready -= partitions
        gone = {(tp.topic, tp.partition) for tp in partitions}
        for source in [s for s in self._parked if (s.topic, s.partition) in gone]:
            record = self._parked.pop(source)
            self._held -= record.held
            self._held_bytes -= _parked_bytes(record) if record.held else 0
