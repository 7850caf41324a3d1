"""One route's exactly-once interposer: consume → decide → one transaction per partition.

Each turn, for each input partition with something to do, one short transaction on that
partition's producer holds: the copies due now (sent to the destination), the copies due
later (parked in the compacted parked topic), parked copies whose time came (sent, and
their parked record rewritten or tombstoned), the ledger records of messages whose last
copy went out, and the input offset after the last message read. Nothing is held inside an
open transaction: a held copy lives in the parked topic between transactions, so a crash
loses nothing (the parked record is committed with the offset that skips its source) and
duplicates nothing (a copy is sent in the same transaction that removes it from parking).

The committed parked set is mirrored in memory; a transaction's changes are planned in a
`PartitionWork` and applied to the mirror only after the commit, so an abort needs no undo
beyond `seek_to_committed` (aiokafka does not rewind the fetch position itself).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError

from injectors.envelope import Emission, SourceCoordinates
from streams.clients import group_consumer
from streams.clock import Clock, wall_clock_ms
from streams.config import InterposerConfig
from streams.decider import Decider, PassThrough
from streams.exactly_once.parked import ParkedSource, ParkedUnreadable, parked_topic
from streams.exactly_once.parked_store import ensure_parked_topic, read_parked
from streams.exactly_once.producers import PartitionProducers
from streams.exactly_once.release_schedule import ReleaseSchedule
from streams.exactly_once.work import PartitionWork
from streams.pacing import Pacing, wait_ms
from streams.records import envelope_of, event_id
from streams.routes import Route
from streams.undeliverable import (
    RouteFailed,
    failure_line,
    is_refusal,
    reason_of,
    record_bytes,
    too_large,
)

log = logging.getLogger(__name__)

# A partition whose parked set could not be rebuilt is retried this often, never skipped.
REBUILD_RETRY_MS = 2_000


def _parked_bytes(record: ParkedSource) -> int:
    # base64 is 4/3 of the bytes it carries; what counts is what the mirror keeps in memory.
    return len(record.value_b64 or "") + len(record.key_b64 or "") + 64


class ExactlyOnceInterposer:
    """The transactional consume → decide → park/release → produce loop of one route."""

    def __init__(
        self,
        route: Route,
        config: InterposerConfig,
        decider: Decider,
        *,
        keep_partition: bool,
        clock: Clock = wall_clock_ms,
        max_message_bytes: int | None = None,
        rebuild_timeout_s: float = 60.0,
    ) -> None:
        self.route = route
        self.config = config
        self.decider = decider
        self.counts: Counter[str] = Counter()
        self._keep_partition = keep_partition
        self._clock = clock
        self._parked_topic = parked_topic(config.group_id)
        self._parked: dict[SourceCoordinates, ParkedSource] = {}
        self._held = 0
        self._held_bytes = 0
        self._size_limit = min(
            max_message_bytes or config.max_request_size, config.max_request_size
        )
        self._rebuild_timeout_s = rebuild_timeout_s
        # Assigned partitions whose parked set could not be read: paused, retried, never
        # processed without it (their parked copies would be lost).
        self._unready: set[TopicPartition] = set()
        self._retry_rebuild_at_ms = 0
        self._release_requested = False
        self._schedule = ReleaseSchedule()
        # Copies the plan let out into a transaction that aborted: the plan no longer has
        # them, so they are offered again on the next turn.
        self._retry_plan: list[Emission] = []
        self._lock = asyncio.Lock()
        self._pacing = Pacing(
            route.name,
            self.counts,
            max_held_messages=config.max_held_messages,
            max_held_bytes=config.max_held_bytes,
            status_interval_ms=config.status_interval_ms,
        )
        self._consumer: AIOKafkaConsumer | None = None
        self._producers: PartitionProducers | None = None

    # ---- lifecycle -------------------------------------------------------------------

    async def run(self, stopping: asyncio.Event) -> None:
        await ensure_parked_topic(self.config.kafka, self._parked_topic, self.config.topics)
        consumer = group_consumer(self.config)
        async with PartitionProducers(self.config) as producers:
            self._producers = producers
            consumer.subscribe([self.route.source], listener=_Rebalance(self))
            self._consumer = consumer
            await consumer.start()
            try:
                while not stopping.is_set():
                    batches = await consumer.getmany(
                        timeout_ms=self._wait_ms(), max_records=self.config.max_batch
                    )
                    async with self._lock:
                        await self._rebuild_unready_if_due()
                        release_all = self._release_requested
                        self._release_requested = False
                        await self._turn(batches, release_all=release_all)
                        self._apply_backpressure()
                        self._log_status_if_due()
                # SIGTERM: like the at-least-once path, a stop releases everything held.
                async with self._lock:
                    await self._turn({}, release_all=True)
            finally:
                self._consumer = None
                await consumer.stop()
                self._producers = None

    async def set_injecting(self, injecting: bool) -> None:
        """The kill switch: stop deciding faults at once; the loop releases what is held.

        Not gated on the route's lock, so a turn blocked on a slow broker cannot delay it.
        """
        self.decider.enabled = injecting
        if not injecting:
            self._release_requested = True

    @property
    def held(self) -> int:
        """Copies held by faults: parked, and inside the fault plan (as at-least-once)."""
        return self._held + self.decider.held_count

    @property
    def held_bytes(self) -> int:
        return self._held_bytes

    @property
    def _releasing_all(self) -> bool:
        # Without a fault plan (a successor taking over) or with the kill switch engaged,
        # copies parked by a previous process go out at once, as a flush would send them.
        return isinstance(self.decider, PassThrough) or not self.decider.enabled

    # ---- one turn --------------------------------------------------------------------

    async def _turn(
        self, batches: dict[TopicPartition, list[Any]], *, release_all: bool = False
    ) -> None:
        producers = self._producers
        if producers is None:
            return
        release_all = release_all or self._releasing_all
        now = self._clock()
        works: dict[TopicPartition, PartitionWork] = {}
        popped: dict[TopicPartition, list[tuple[int, SourceCoordinates, int]]] = {}

        def work_for(topic: str, partition: int) -> tuple[TopicPartition, PartitionWork] | None:
            tp = TopicPartition(topic, partition)
            if tp not in producers or tp in self._unready:
                return None  # revoked meanwhile (its new owner has it), or not rebuilt yet
            if tp not in works:
                works[tp] = PartitionWork(self._parked, now, release_all=release_all)
            return tp, works[tp]

        for tp, records in batches.items():
            if tp in self._unready:
                continue  # read again from the committed offset once its parked set is back
            found = work_for(tp.topic, tp.partition)
            if found is None:
                continue
            for record in records:
                envelope = envelope_of(record, self.counts)
                decision = self.decider.decide(envelope, now)
                found[1].decide(envelope, decision, event_id(self.config.event_id_header, envelope))
        plan_out = self._retry_plan + (
            self.decider.flush(now) if release_all else self.decider.poll(now)
        )
        self._retry_plan = []
        for emission in plan_out:
            source = emission.envelope.source
            found = work_for(source.topic, source.partition)
            if found is not None:
                found[1].plan_released(emission)
        due = self._schedule.pop_all() if release_all else self._schedule.pop_due(now)
        for entry in due:
            source = entry[1]
            found = work_for(source.topic, source.partition)
            if found is not None and found[1].release(source, entry[2]):
                popped.setdefault(found[0], []).append(entry)
        for tp, work in works.items():
            if work.empty:
                continue
            if await self._transact(tp, work):
                self._committed(work)
            else:
                self._retry_plan.extend(work.from_plan)
                for release_at, source, copy_number in popped.get(tp, []):
                    self._schedule.push(release_at, source, copy_number)

    async def _transact(self, tp: TopicPartition, work: PartitionWork) -> bool:
        """Run one partition's work as one transaction; False when it was aborted."""
        assert self._producers is not None
        producer = self._producers[tp]
        begun = False
        try:
            await producer.begin_transaction()
            begun = True
            futures = [await self._send(producer, emission) for emission in work.to_send]
            # A transactional send is acknowledged (with its offset) before the commit; an
            # aborted transaction takes the ledger records naming those offsets with it.
            for emission, metadata in zip(
                work.to_send, await asyncio.gather(*futures), strict=True
            ):
                work.sent(emission, partition=metadata.partition, offset=metadata.offset)
            tail = [
                await producer.send(self._parked_topic, key=key, value=value)
                for key, value in work.parked_writes()
            ]
            if self.config.ledger_enabled:
                tail.extend(
                    [
                        await producer.send(
                            self.config.ledger_topic, key=record.key, value=record.payload
                        )
                        for record in work.ledger_records(
                            run_id=self.config.run_id, route=self.route.name
                        )
                    ]
                )
            await asyncio.gather(*tail)
            if work.next_offset is not None:
                await producer.send_offsets_to_transaction(
                    {tp: work.next_offset}, self.config.group_id
                )
            await producer.commit_transaction()
            return True
        except (KafkaError, RouteFailed) as exc:
            refused = isinstance(exc, RouteFailed) or is_refusal(exc)
            if not refused:
                log.warning("transaction on %s aborted, will retry: %r", tp, exc)
            self.counts["aborted"] += 1
            if begun:
                # A fenced producer cannot abort: it raises, and this zombie process stops.
                await producer.abort_transaction()
            if refused:
                # Sending it again cannot succeed: the route stops, nothing past it committed.
                raise self._refused(tp, work, exc) from exc
            consumer = self._consumer
            if consumer is not None and tp in consumer.assignment():
                await consumer.seek_to_committed(tp)
            return False

    def _refused(self, tp: TopicPartition, work: PartitionWork, exc: Exception) -> RouteFailed:
        if isinstance(exc, RouteFailed):
            return exc
        lowest = min(e.envelope.source.offset for e in work.to_send) if work.to_send else None
        line = (
            f"route {self.route.name}: {self.route.destination} refused a transaction of "
            f"{tp.topic} partition {tp.partition} (from offset {lowest}): {reason_of(exc)}; "
            "nothing past it is committed"
        )
        log.error("%s", line)
        return RouteFailed(line)

    async def _send(self, producer: Any, emission: Emission) -> Any:
        envelope = emission.envelope
        if envelope.size > self._size_limit // 2:
            size = record_bytes(envelope)
            if size > self._size_limit:
                # Dead-lettering is at-least-once only for now: here the route stops.
                reason = too_large(size, self._size_limit)
                line = failure_line(self.route.name, envelope, self.route.destination, reason)
                log.error("%s", line)
                raise RouteFailed(line)
        return await producer.send(
            self.route.destination,
            value=envelope.value,
            key=envelope.key,
            partition=envelope.source.partition if self._keep_partition else None,
            timestamp_ms=envelope.timestamp_ms,
            # Byte-identical copies: tracing is not wired into exactly-once mode.
            headers=list(envelope.headers),
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
            self._schedule.push(copy.release_at_ms, source, copy.copy_number)
        self.counts.update(work.faults)
        self.counts["parked"] += len(work.newly_parked)
        self.counts["stale"] += work.stale

    # ---- rebalancing -----------------------------------------------------------------

    async def on_assigned(self, assigned: set[TopicPartition]) -> None:
        if not assigned or self._producers is None:
            return
        async with self._lock:
            # Producers first: their start fences the previous owner and aborts its open
            # transaction, so the parked topic's last stable offset can move past it.
            await self._producers.add(assigned)
            await self._rebuild(set(assigned))

    async def _rebuild(self, partitions: set[TopicPartition]) -> None:
        """Take over the parked set of `partitions`; on failure they stop, loudly, and retry."""
        wanted = {(tp.topic, tp.partition) for tp in partitions}
        unreadable: dict[tuple[str, int], str] = {}
        try:
            parked = await read_parked(
                self.config.kafka,
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
        self.counts["rebuild_failed"] += 1
        self._unready |= partitions
        self._retry_rebuild_at_ms = self._clock() + REBUILD_RETRY_MS
        if self._consumer is not None:
            self._consumer.pause(*partitions)
        names = ", ".join(f"{tp.topic}[{tp.partition}]" for tp in sorted(partitions))
        log.error(
            "%s: %s stopped: the parked set of %s could not be rebuilt (%s); retrying every "
            "%d s, nothing is read from these partitions meanwhile",
            self.route.name,
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
                elif self.config.start_from == "earliest":
                    await consumer.seek_to_beginning(tp)
                else:
                    await consumer.seek_to_end(tp)
            consumer.resume(*recovered)
            log.info("%s: %d partitions rebuilt, reading again", self.route.name, len(recovered))
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
                self._schedule.push(copy.release_at_ms, source, copy.copy_number)
        if taken:
            log.info("%s: %d parked messages taken over", self.route.name, taken)

    async def _rebuild_unready_if_due(self) -> None:
        if self._unready and self._clock() >= self._retry_rebuild_at_ms:
            owned = self._consumer.assignment() if self._consumer is not None else set()
            self._unready &= owned
            if self._unready:
                await self._rebuild(set(self._unready))

    async def on_revoked(self, revoked: set[TopicPartition]) -> None:
        if not revoked or self._producers is None:
            return
        async with self._lock:
            # Hand over with nothing parked, as the at-least-once path drains: the plan can
            # only flush all partitions at once, and a copy it keeps must not come out here
            # after the new owner released it from the parked topic.
            await self._turn({}, release_all=True)
            await self._producers.remove(revoked)
            self._unready -= revoked
            gone = {(tp.topic, tp.partition) for tp in revoked}
            for source in [s for s in self._parked if (s.topic, s.partition) in gone]:
                record = self._parked.pop(source)
                self._held -= record.held
                self._held_bytes -= _parked_bytes(record) if record.held else 0

    # ---- pacing and reporting ----------------------------------------------------------

    def _apply_backpressure(self) -> None:
        consumer = self._consumer
        if consumer is not None:
            self._pacing.apply_backpressure(consumer, self.held, self.held_bytes)
            if self._unready:
                consumer.pause(*self._unready)  # resuming the rest must not resume these

    def _log_status_if_due(self) -> None:
        # in_flight: messages still owed copies.
        self._pacing.log_status_if_due(self._clock(), held=self.held, in_flight=len(self._parked))

    def _wait_ms(self) -> int:
        return wait_ms(self._schedule.next_release_ms(), self._clock())


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, interposer: ExactlyOnceInterposer) -> None:
        self._interposer = interposer

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._interposer.on_revoked(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self._interposer.on_assigned(assigned)
