"""At-least-once delivery: send, ledger, and commit once everything below is done.

A source offset is committed only when every message below it is *done*: each planned
emission acknowledged by the broker (or, refused by it, sent to the dead-letter topic) and
its ledger record acknowledged too (see `streams.offsets`). Held messages keep their offsets
in flight, so a crash re-delivers them. Held messages never pass through faust-streaming's
acking, whose out-of-order commit can skip an unacknowledged message (faust-streaming issue
#606).

What the destination refuses is never resent forever (`streams.undeliverable`); what fails
for a retriable reason is resent on the next turn and counted (`resent`). `in_flight` and
`held_bytes` count every message read and not yet done, whatever the destination does.

What a message costs is paid per batch where it can be: a copy due at once (every pass) is
kept in a plain list beside the release heap (`ReleaseSchedule`'s `placed`), and a producer
batch's or a ledger batch's acknowledgement is booked in one call for all its members.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from functools import partial

from aiokafka import TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError, OutOfOrderSequenceNumber
from aiokafka.partitioner import DefaultPartitioner

from chaosbus.injectors.envelope import Emission, Envelope, SourceCoordinates
from chaosbus.streams.batches import Record, send_in_batches
from chaosbus.streams.clients import route_producer, stop_producer
from chaosbus.streams.config import InterposerConfig
from chaosbus.streams.decider import DecisionLike
from chaosbus.streams.delivery import TRACE_HEADER_BYTES, RouteContext
from chaosbus.streams.ledger import CompletedRecord, LedgerBook
from chaosbus.streams.offsets import OffsetTracker
from chaosbus.streams.release_schedule import ReleaseSchedule
from chaosbus.streams.transport import Consumer, Producer, RecordMetadata
from chaosbus.streams.undeliverable import (
    REFUSALS,
    UNDELIVERABLE,
    RouteFailed,
    dead_letter_headers,
    failure_line,
    is_refusal,
    reason_of,
)

log = logging.getLogger("chaosbus.streams.interposer")

SINGLE_SEND_TIMEOUT_S = 30.0


def _release_at(emission: Emission) -> int:
    return emission.release_at_ms


def _size(emission: Emission) -> int:
    return emission.envelope.approx_size


class AtLeastOnce:
    """The at-least-once `Delivery` of one route, over one (shared) idempotent producer."""

    def __init__(
        self,
        context: RouteContext,
        producer: Producer,
        *,
        producer_factory: Callable[[InterposerConfig], Producer] = route_producer,
    ) -> None:
        self._context = context
        self._route = context.route
        self._config = context.config
        self._counts = context.counts
        self._clock = context.clock
        self._telemetry = context.telemetry
        self._actions = context.actions
        self._producer = producer
        self._producer_factory = producer_factory
        # A refused batch leaves the idempotent producer's sequence for that partition ahead
        # of the broker's, and every later batch there fails (OutOfOrderSequenceNumber): the
        # route then sends through a fresh producer of its own (a new producer id).
        self._renew_producer = False
        self._own_producers: list[Producer] = []
        self._tracker = OffsetTracker()
        self._queue: ReleaseSchedule[Emission] = ReleaseSchedule(_release_at, _size)
        # Copies due at the turn's time (every pass), in decision order: they never enter
        # the heap; `_due_at` is the heap key they would have had.
        self._due_now: list[Emission] = []
        self._due_at = (0, 0)
        self._book = LedgerBook(
            run_id=self._config.run_id,
            route=self._route.name,
            salt=self._config.identifier_salt,
        )
        self._ledger_ready: deque[CompletedRecord] = deque()
        # Sent and not acknowledged yet, and failed for a retriable reason (resent next turn):
        # both count against max_held_bytes with the release queue.
        self._unacked_bytes = 0
        self._failed: deque[Emission] = deque()
        self._failed_bytes = 0
        # Members of a batch the broker refused: sent again one per batch to find the guilty.
        self._singles: deque[Emission] = deque()
        self._dead_letters: deque[tuple[Emission, str]] = deque()
        self._failure: RouteFailed | None = None
        self._failed_at: SourceCoordinates | None = None
        self._release_all = False
        self._turn_ms = 0
        self._last_commit_ms = 0
        self._commit_task: asyncio.Task[None] | None = None
        self._ledger_partitioner = DefaultPartitioner()
        self._progress = asyncio.Event()
        self._consumer: Consumer | None = None

    # ---- what the loop reads ---------------------------------------------------------

    @property
    def failure(self) -> RouteFailed | None:
        return self._failure

    @property
    def held(self) -> int:
        return len(self._queue)

    @property
    def held_bytes(self) -> int:
        return self._queue.held_bytes + self._unacked_bytes + self._failed_bytes

    @property
    def in_flight(self) -> int:
        return self._tracker.in_flight()

    @asynccontextmanager
    async def running(self, consumer: Consumer) -> AsyncIterator[None]:
        self._consumer = consumer
        try:
            yield
        finally:
            self._consumer = None
            if self._commit_task is not None and not self._commit_task.done():
                self._commit_task.cancel()  # the consumer stopped: re-read from the last one
            for producer in self._own_producers:
                await stop_producer(producer)

    def readable(self, tp: TopicPartition) -> bool:
        return True

    def next_release_ms(self) -> int | None:
        if self._singles or self._dead_letters or self._failed:
            return 0
        return self._queue.next_release_ms()

    # ---- one turn --------------------------------------------------------------------

    def open_turn(self, now_ms: int, *, release_all: bool) -> None:
        self._release_all = release_all
        self._turn_ms = now_ms

    def accept(
        self, envelope: Envelope, decision: DecisionLike, *, event_id: str, trace_id: str | None
    ) -> None:
        source = envelope.source
        emissions = decision.emissions
        expected = len(emissions) + decision.held
        # One acknowledgement per emission, plus one for the ledger record.
        self._tracker.begin(source.topic, source.partition, source.offset, expected + 1)
        self._book.open(
            source,
            key=envelope.key,
            event_id=event_id,
            fault=decision.fault,
            reason=decision.reason,
            expected=expected,
            now_ms=self._turn_ms,
            fault_name=decision.fault_name,
            source_timestamp_ms=envelope.timestamp_ms,
            trace_id=trace_id,
        )
        turn_ms = self._turn_ms
        for emission in emissions:
            if emission.release_at_ms <= turn_ms:
                # Due now: after whatever the heap holds for this very time, before what it
                # is given later (see `ReleaseSchedule`'s `placed`).
                if not self._due_now:
                    self._due_at = (turn_ms, self._queue.next_sequence)
                self._due_now.append(emission)
            else:
                self._queue.push(emission)

    def release(self, emissions: Sequence[Emission]) -> None:
        self._queue.push_all(emissions)

    async def close_turn(self) -> None:
        """Send what is due, what failed before, dead letters, the ledger; commit if due."""
        await self._renew_producer_if_needed()
        await self._send_pending(everything=self._release_all)
        await self._commit_if_due()

    async def _send_pending(self, *, everything: bool) -> None:
        """What failed before (back in the queue), what is due (`everything`: all that is
        queued), the members of refused batches, dead letters, then the ledger."""
        while self._failed:
            emission = self._failed.popleft()
            self._failed_bytes -= emission.envelope.approx_size
            self._queue.push(emission)
        queue = self._queue
        placed = (*self._due_at, self._due_now) if self._due_now else None
        self._due_now = []
        due = queue.pop_all(placed) if everything else queue.pop_due(self._clock(), placed)
        await self._send_all(due)
        await self._send_singles_and_dead_letters()
        await self._write_ledger()

    # ---- sending ---------------------------------------------------------------------

    async def _send_singles_and_dead_letters(self) -> None:
        while self._singles:
            await self._renew_producer_if_needed()
            await self._send_one(self._singles.popleft(), alone=True)
        while self._dead_letters:
            await self._send_dead_letter(*self._dead_letters.popleft())

    async def _renew_producer_if_needed(self) -> None:
        if not self._renew_producer:
            return
        self._renew_producer = False
        fresh = self._producer_factory(self._config)
        await fresh.start()
        self._own_producers.append(fresh)
        self._producer = fresh
        self._counts["producer_renewed"] += 1
        log.warning(
            "%s: destination refused a batch; sending through a new producer", self._route.name
        )

    async def _send_all(self, emissions: list[Emission]) -> None:
        emissions = self._admissible(emissions)
        if not emissions:
            return
        if not self._context.keep_partition:
            # Partition counts differ: the producer's key hash chooses, one send per record.
            for emission in emissions:
                await self._send_one(emission)
            return
        by_partition: dict[int, list[Emission]] = defaultdict(list)
        for emission in emissions:
            by_partition[emission.envelope.source.partition].append(emission)
        telemetry = self._telemetry
        to_record = (
            self._emission_record if telemetry.enabled or telemetry.measuring else _plain_record
        )
        for partition, group in by_partition.items():
            self._unacked_bytes += sum(e.envelope.approx_size for e in group)
            await send_in_batches(
                self._producer,
                self._route.destination,
                partition,
                group,
                to_record,
                partial(self._on_emissions_ack, partition, self._producer),
                max_bytes=self._context.size_limit,
            )

    def _admissible(self, emissions: list[Emission]) -> list[Emission]:
        """What may be sent: not past a route failure, not over the destination's limit."""
        # Only a record this large can be refused for its size (`too_large`'s cheap bound).
        checked_from = self._context.size_limit // 2 - TRACE_HEADER_BYTES
        if self._failed_at is None and all(e.envelope.size <= checked_from for e in emissions):
            return emissions
        admitted: list[Emission] = []
        for emission in emissions:
            envelope = emission.envelope
            # Read each time: a refusal below sets it, and bounds what follows.
            failed_at = self._failed_at
            if failed_at is not None and _at_or_past(envelope.source, failed_at):
                continue  # the route stops; these stay uncommitted and are read again
            reason = self._context.too_large(envelope)
            if reason is not None:
                self._undeliverable(emission, reason)
                continue
            admitted.append(emission)
        return admitted

    def _emission_record(self, emission: Emission) -> Record:
        envelope = emission.envelope
        headers = self._telemetry.outgoing_headers(envelope, emission)
        return envelope.key, envelope.value, envelope.timestamp_ms, headers

    async def _send_one(self, emission: Emission, *, alone: bool = False) -> None:
        """One record by `producer.send` (partitions hashed by key); `alone` waits for its
        answer before returning, so it shares no batch: how a refused batch finds its guilty
        record (the producer would otherwise batch the records sent one by one again)."""
        if self._failed_at is not None and _at_or_past(emission.envelope.source, self._failed_at):
            return
        key, value, timestamp_ms, headers = self._emission_record(emission)
        self._unacked_bytes += emission.envelope.approx_size
        partition = emission.envelope.source.partition if self._context.keep_partition else None
        try:
            future = await self._producer.send(
                self._route.destination,
                value=value,
                key=key,
                partition=partition,
                timestamp_ms=timestamp_ms,
                headers=headers,
            )
        except KafkaError as exc:
            self._unacked_bytes -= emission.envelope.approx_size
            self._emissions_failed([emission], exc)
            return
        future.add_done_callback(partial(self._on_emission_ack, emission, self._producer))
        if alone:
            # Bounded: a producer whose sender died never answers; the send then stays
            # unacknowledged (uncommitted) and the route goes on through a fresh producer.
            await asyncio.wait([future], timeout=SINGLE_SEND_TIMEOUT_S)

    def _on_emission_ack(
        self, emission: Emission, producer: Producer, future: asyncio.Future[RecordMetadata]
    ) -> None:
        self._unacked_bytes -= emission.envelope.approx_size
        if future.cancelled():
            self._emissions_failed([emission], asyncio.CancelledError())
            return
        error = future.exception()
        if error is not None:
            self._emissions_failed([emission], error, producer)
            return
        metadata = future.result()
        self._emission_sent(emission, metadata.partition, metadata.offset)

    def _on_emissions_ack(
        self,
        partition: int,
        producer: Producer,
        emissions: Sequence[Emission],
        base_offset: int | None,
        error: BaseException | None,
    ) -> None:
        self._unacked_bytes -= sum(e.envelope.approx_size for e in emissions)
        if base_offset is None:
            self._emissions_failed(emissions, error, producer)
            return
        # The whole batch booked at once: a call per stage, not per message.
        self._telemetry.emitted_all(emissions)
        now = self._clock()
        self._actions.emitted_all(emissions, now_ms=now, partition=partition, base=base_offset)
        self._book.sent_all(emissions, partition=partition, base_offset=base_offset, now_ms=now)
        self._acknowledge_all(emission.envelope.source for emission in emissions)

    def _emissions_failed(
        self,
        emissions: Sequence[Emission],
        error: BaseException | None,
        producer: Producer | None = None,
    ) -> None:
        if producer is self._producer and isinstance(error, (OutOfOrderSequenceNumber, *REFUSALS)):
            self._renew_producer = True
        if is_refusal(error):
            assert error is not None
            if len(emissions) == 1:
                self._undeliverable(emissions[0], reason_of(error))
            else:
                # The batch took its innocent neighbours down: find the guilty one alone.
                self._counts["split"] += len(emissions)
                self._singles.extend(emissions)
            self._progress.set()
            return
        # Retriable: sent again on the next turn; the source offsets stay in flight meanwhile.
        log.debug("%s: %d sends failed, resending: %r", self._route.name, len(emissions), error)
        self._counts["resent"] += len(emissions)
        for emission in emissions:
            self._failed_bytes += emission.envelope.approx_size
            self._failed.append(emission)
        self._progress.set()

    def _undeliverable(self, emission: Emission, reason: str) -> None:
        envelope = emission.envelope
        self._actions.refused(envelope, reason, self._route.dead_letter)
        if self._route.dead_letter is not None:
            self._dead_letters.append((emission, reason))
            return
        self._counts[UNDELIVERABLE] += 1
        self._telemetry.refused(dead_lettered=False)
        if self._failure is None:
            line = failure_line(self._route.name, envelope, self._route.destination, reason)
            log.error("%s", line)
            self._failure = RouteFailed(line)
            self._failed_at = envelope.source
        elif _at_or_past(self._failed_at or envelope.source, envelope.source):
            self._failed_at = envelope.source  # the lowest refused offset bounds the commit
        self._progress.set()

    async def _send_dead_letter(self, emission: Emission, reason: str) -> None:
        envelope = emission.envelope
        topic = self._route.dead_letter
        assert topic is not None
        try:
            future = await self._producer.send(
                topic,
                value=envelope.value,
                key=envelope.key,
                timestamp_ms=envelope.timestamp_ms,
                headers=dead_letter_headers(envelope, self._route.destination, reason),
            )
        except KafkaError as exc:
            self._dead_letter_failed(emission, reason, exc)
            return
        future.add_done_callback(partial(self._on_dead_letter_ack, emission, reason))

    def _on_dead_letter_ack(
        self, emission: Emission, reason: str, future: asyncio.Future[RecordMetadata]
    ) -> None:
        error = asyncio.CancelledError() if future.cancelled() else future.exception()
        if error is not None:
            self._dead_letter_failed(emission, reason, error)
            return
        self._counts[UNDELIVERABLE] += 1
        self._telemetry.refused(dead_lettered=True)
        self._book.undelivered(emission.envelope.source, reason=reason, now_ms=self._clock())
        self._acknowledge(emission.envelope.source)

    def _dead_letter_failed(self, emission: Emission, reason: str, error: BaseException) -> None:
        if is_refusal(error):
            # The dead-letter topic refuses it too: nowhere left to put it, the route stops.
            topic = self._route.dead_letter or ""
            line = failure_line(self._route.name, emission.envelope, topic, reason_of(error))
            if self._failure is None:
                log.error("%s (dead letter of: %s)", line, reason)
                self._failure = RouteFailed(line)
                self._failed_at = emission.envelope.source
            return
        self._counts["resent"] += 1
        self._dead_letters.append((emission, reason))

    def _emission_sent(self, emission: Emission, partition: int, offset: int) -> None:
        self._telemetry.emitted(emission)
        now = self._clock()
        self._actions.emitted(emission, now_ms=now, partition=partition, offset=offset)
        self._book.sent(
            emission.envelope.source,
            copy_number=emission.copy,
            planned_delay_ms=emission.planned_delay_ms,
            partition=partition,
            offset=offset,
            now_ms=now,
            variant=emission.variant,
        )
        self._acknowledge(emission.envelope.source)

    # ---- the ledger and the commit point ---------------------------------------------

    async def _write_ledger(self) -> None:
        # Records whose write failed first, then what completed since the last turn.
        ready = [*self._ledger_ready, *self._book.take_completed()]
        self._ledger_ready.clear()
        if not self._config.ledger_enabled:
            self._acknowledge_all(source for record in ready for source in record.sources)
            return
        if not ready:
            return
        topic = self._config.ledger_topic
        # Keyed like the producer would (murmur2 of the key: route and source partition), so
        # one source partition's records stay in one ledger partition, in order.
        partitions = sorted(await self._producer.partitions_for(topic))
        by_partition: dict[int, list[CompletedRecord]] = defaultdict(list)
        for record in ready:
            by_partition[self._ledger_partitioner(record.key, partitions, partitions)].append(
                record
            )
        for partition, group in by_partition.items():
            on_ack = partial(self._on_ledger_ack, time.perf_counter())
            await send_in_batches(self._producer, topic, partition, group, _ledger_record, on_ack)

    def _on_ledger_ack(
        self,
        sent_at: float,
        records: Sequence[CompletedRecord],
        base_offset: int | None,
        error: BaseException | None,
    ) -> None:
        self._telemetry.ledgered((time.perf_counter() - sent_at) * 1000)
        if base_offset is None:
            self._ledger_ready.extend(records)
            return
        self._acknowledge_all(source for record in records for source in record.sources)

    def _acknowledge_all(self, sources: Iterable[SourceCoordinates]) -> None:
        """One acknowledgement each, booked per run of one partition (what a batch holds)."""
        tracker = self._tracker
        part: tuple[str, int] | None = None
        offsets: list[int] = []
        for source in sources:
            at = (source.topic, source.partition)
            if at != part:
                if part is not None:
                    tracker.acknowledge_each(*part, offsets)
                part, offsets = at, []
            offsets.append(source.offset)
        if part is not None:
            tracker.acknowledge_each(*part, offsets)
        self._progress.set()

    def _acknowledge(self, source: SourceCoordinates) -> None:
        self._tracker.acknowledge(source.topic, source.partition, source.offset)
        self._progress.set()

    async def _commit_if_due(self, *, force: bool = False) -> None:
        """Commit what is done, at most every `commit_interval_ms`.

        A due commit runs beside the next turns (one at a time): awaited inside the turn it
        held every message behind it for a broker round trip, 20-280 ms on a loaded host
        (docs/decisions/0150). A forced one (stop, revoke) waits for it and commits now.
        """
        running = self._commit_task
        if running is not None and not running.done():
            if not force:
                return
            await running
        now = self._clock()
        if not force and now - self._last_commit_ms < self._config.commit_interval_ms:
            return
        self._last_commit_ms = now
        if force:
            await self._commit_now()
        else:
            self._commit_task = asyncio.create_task(self._commit_now())

    async def _commit_now(self) -> None:
        offsets = self._tracker.to_commit()
        consumer = self._consumer
        if not offsets or consumer is None:
            return
        owned = consumer.assignment()
        wanted = {
            TopicPartition(topic, partition): offset
            for (topic, partition), offset in offsets.items()
            if TopicPartition(topic, partition) in owned
        }
        if not wanted:
            return
        started = time.perf_counter()
        try:
            await consumer.commit(wanted)
        except (CommitFailedError, KafkaError) as exc:
            # Nothing is lost: the same offsets are tried again on the next turn.
            log.warning("commit on %s failed, will retry: %s", self._route.name, exc)
            return
        took_ms = (time.perf_counter() - started) * 1000
        self._telemetry.committed(took_ms)
        self._actions.committed({(tp.topic, tp.partition): o for tp, o in wanted.items()}, took_ms)
        # A partition revoked meanwhile is gone from the tracker: nothing to mark there.
        self._tracker.mark_committed({(tp.topic, tp.partition): o for tp, o in wanted.items()})

    # ---- draining: on stop and before partitions are handed to another replica ---------

    async def drain(self) -> None:
        if self._failure is not None:
            await self._settle()
            raise self._failure
        await self._await_and_commit()

    async def _await_and_commit(self) -> None:
        """Wait for every acknowledgement (resending what fails), then commit."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._config.drain_timeout_s
        while self._tracker.in_flight() and loop.time() < deadline and self._failure is None:
            self._progress.clear()
            await self._renew_producer_if_needed()
            try:
                await asyncio.wait_for(self._producer.flush(), max(0.1, deadline - loop.time()))
            except TimeoutError:
                break
            # Everything was released before draining: only resends are left to go out.
            await self._send_pending(everything=True)
            if self._tracker.in_flight():
                try:
                    await asyncio.wait_for(self._progress.wait(), timeout=1.0)
                except TimeoutError:
                    continue
        if self._tracker.in_flight() and self._failure is None:
            log.warning(
                "%s: %d messages still unacknowledged after %.0fs; they will be re-delivered",
                self._route.name,
                self._tracker.in_flight(),
                self._config.drain_timeout_s,
            )
        await self._commit_if_due(force=True)

    async def _settle(self) -> None:
        """After a route failure: let what was sent before it land and be ledgered, commit."""
        for _ in range(3):
            await self._flush_within(self._config.drain_timeout_s)
            await asyncio.sleep(0)  # acknowledgement callbacks run on the next loop turn
            await self._write_ledger()
        await self._flush_within(self._config.drain_timeout_s)
        await asyncio.sleep(0)
        await self._commit_if_due(force=True)

    async def _flush_within(self, timeout_s: float) -> None:
        try:
            await asyncio.wait_for(self._producer.flush(), timeout_s)
        except TimeoutError:
            log.warning("%s: sends unacknowledged after %.0f s", self._route.name, timeout_s)

    # ---- rebalancing -----------------------------------------------------------------

    async def assigned(self, partitions: set[TopicPartition]) -> None:
        return None

    async def revoked(self, partitions: set[TopicPartition]) -> None:
        try:
            await self._await_and_commit()
        except (KafkaError, OSError, TimeoutError) as exc:
            # Re-delivered to the new owner; what matters here is the finally below.
            log.warning("%s: drain on revoke failed: %r", self._route.name, exc)
        finally:
            # Whatever the drain did, a revoked partition must leave every later commit:
            # committing it raises, and would stop commits on the partitions still owned.
            gone = {(tp.topic, tp.partition) for tp in partitions}
            for topic, partition in gone:
                self._tracker.forget(topic, partition)
            self._failed = deque(e for e in self._failed if _part(e) not in gone)
            self._failed_bytes = sum(e.envelope.approx_size for e in self._failed)
            self._singles = deque(e for e in self._singles if _part(e) not in gone)


def _part(emission: Emission) -> tuple[str, int]:
    source = emission.envelope.source
    return source.topic, source.partition


def _at_or_past(source: SourceCoordinates, bound: SourceCoordinates) -> bool:
    return (
        source.topic == bound.topic
        and source.partition == bound.partition
        and source.offset >= bound.offset
    )


def _plain_record(emission: Emission) -> Record:
    """A copy as it is produced when neither tracing nor metrics look at it."""
    envelope = emission.envelope
    return envelope.key, envelope.value, envelope.timestamp_ms, list(envelope.headers)


def _ledger_record(record: CompletedRecord) -> Record:
    return record.key, record.payload, None, []
