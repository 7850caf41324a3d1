"""One route's interposer: consume the source topic, decide, hold, produce, ledger, commit.

Delivery is at-least-once. A source offset is committed only when every message below it
is *done*: each planned emission acknowledged by the broker and its ledger record
acknowledged too (see `streams.offsets`). Held messages keep their offsets in flight, so a
crash re-delivers them. Held messages never pass through faust-streaming's acking, whose
out-of-order commit can skip an unacknowledged message (faust-streaming issue #606).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError
from aiokafka.partitioner import DefaultPartitioner

from injectors.envelope import Emission, Envelope, SourceCoordinates
from injectors.limits import MAX_HELD_DEFAULT
from streams.batches import Record, send_in_batches
from streams.clock import Clock, wall_clock_ms
from streams.connection import KafkaSettings
from streams.decider import Decider
from streams.ledger import CompletedRecord, LedgerBook
from streams.ledger_record import LEDGER_TOPIC
from streams.offsets import OffsetTracker
from streams.pacing import Pacing, wait_ms
from streams.release_queue import ReleaseQueue
from streams.routes import Route
from streams.telemetry import Telemetry
from streams.topics import TopicPolicy

log = logging.getLogger(__name__)

Compression = Literal["gzip", "snappy", "lz4", "zstd"]
COMPRESSIONS: tuple[Compression, ...] = ("gzip", "snappy", "lz4", "zstd")


@dataclass(frozen=True)
class InterposerConfig:
    kafka: KafkaSettings
    run_id: str
    group_id: str = "chaosbus.proxy"
    ledger_enabled: bool = True
    ledger_topic: str = LEDGER_TOPIC
    event_id_header: str | None = None
    # Set: the ledger holds keyed hashes of keys and event ids (experiment `privacy:`).
    identifier_salt: bytes | None = None
    start_from: Literal["earliest", "latest"] = "earliest"
    max_held_messages: int = MAX_HELD_DEFAULT  # a file sets it: blast_radius.max_held_messages
    max_held_bytes: int = 256 * 1024 * 1024
    commit_interval_ms: int = 1_000
    max_batch: int = 5_000
    drain_timeout_s: float = 60.0
    status_interval_ms: int = 5_000
    # How the ledger, parked and created destination topics are made (streams.topics).
    topics: TopicPolicy = field(default_factory=TopicPolicy)
    # What the proxy's producers compress with (destination and ledger); None: nothing.
    compression: Compression | None = None


def group_consumer(config: InterposerConfig) -> AIOKafkaConsumer:
    """A route's consumer: in the replicas' group, committing by hand, reading committed data."""
    return AIOKafkaConsumer(
        **config.kafka.client_options(),
        group_id=config.group_id,
        # The marker by which preflight recognises another interposer on a source topic.
        client_id="chaosbus-interposer",
        enable_auto_commit=False,
        auto_offset_reset=config.start_from,
        isolation_level="read_committed",
    )


class RouteInterposer:
    """The consume → decide → release → produce loop of one route."""

    def __init__(
        self,
        route: Route,
        config: InterposerConfig,
        producer: AIOKafkaProducer,
        decider: Decider,
        *,
        keep_partition: bool,
        clock: Clock = wall_clock_ms,
        telemetry: Telemetry | None = None,
    ) -> None:
        self.route = route
        self.config = config
        self.decider = decider
        self.counts: Counter[str] = Counter()
        self._producer = producer
        self._keep_partition = keep_partition
        self._clock = clock
        self._telemetry = telemetry or Telemetry.disabled()
        self._telemetry.observe_held(lambda: self.held)
        self._tracker = OffsetTracker()
        self._queue = ReleaseQueue()
        self._book = LedgerBook(
            run_id=config.run_id, route=route.name, salt=config.identifier_salt
        )
        self._ledger_ready: deque[CompletedRecord] = deque()
        self._failed: deque[Emission] = deque()
        self._lock = asyncio.Lock()
        self._last_commit_ms = 0
        self._ledger_partitioner = DefaultPartitioner()
        self._pacing = Pacing(
            route.name,
            self.counts,
            max_held_messages=config.max_held_messages,
            max_held_bytes=config.max_held_bytes,
            status_interval_ms=config.status_interval_ms,
        )
        self._progress = asyncio.Event()
        self._consumer: AIOKafkaConsumer | None = None

    # ---- lifecycle -------------------------------------------------------------------

    async def run(self, stopping: asyncio.Event) -> None:
        consumer = group_consumer(self.config)
        consumer.subscribe([self.route.source], listener=_DrainOnRevoke(self))
        self._consumer = consumer
        await consumer.start()
        try:
            while not stopping.is_set():
                batches = await consumer.getmany(
                    timeout_ms=self._wait_ms(), max_records=self.config.max_batch
                )
                async with self._lock:
                    self._decide_all(batches)
                    await self._pump()
                    await self._commit_if_due()
                    self._apply_backpressure()
                    self._log_status_if_due()
            async with self._lock:
                await self._drain()
        finally:
            self._consumer = None
            await consumer.stop()

    async def set_injecting(self, injecting: bool) -> None:
        """The kill switch: stop deciding faults and release everything held, at once."""
        async with self._lock:
            self.decider.enabled = injecting
            if not injecting:
                self._queue.push_all(self.decider.flush(self._clock()))
                await self._send_all(self._queue.pop_all())

    @property
    def held(self) -> int:
        return len(self._queue) + self.decider.held_count

    @property
    def in_flight(self) -> int:
        """Source messages read but not yet forwarded, acknowledged and ledgered."""
        return self._tracker.in_flight()

    @property
    def held_bytes(self) -> int:
        return self._queue.held_bytes

    # ---- the steps of one turn -------------------------------------------------------

    def _decide_all(self, batches: dict[TopicPartition, list[Any]]) -> None:
        now = self._clock()
        for records in batches.values():
            for record in records:
                self._decide(record, now)

    def _decide(self, record: Any, now: int) -> None:
        source = SourceCoordinates(record.topic, record.partition, record.offset)
        headers = tuple(record.headers)
        envelope = Envelope(
            key=record.key,
            value=record.value,
            headers=headers,
            timestamp_ms=record.timestamp,
            source=source,
            # Counted against max_held_bytes while held; headers are small and left out.
            size=record.serialized_key_size + record.serialized_value_size + 64,
        )
        decision = self.decider.decide(envelope, now)
        expected = len(decision.emissions) + decision.held
        # One acknowledgement per emission, plus one for the ledger record.
        self._tracker.begin(source.topic, source.partition, source.offset, expected + 1)
        self.counts[decision.fault] += 1
        trace_id = self._telemetry.decided(envelope, decision.fault, expected, now)
        done = self._book.open(
            source,
            key=record.key,
            event_id=self._event_id(source, headers),
            fault=decision.fault,
            reason=decision.reason,
            expected=expected,
            now_ms=now,
            fault_name=decision.fault_name,
            source_timestamp_ms=record.timestamp,
            trace_id=trace_id,
        )
        if done is not None:
            self._ledger_ready.append(done)
        self._queue.push_all(decision.emissions)

    def _event_id(self, source: SourceCoordinates, headers: tuple[tuple[str, bytes], ...]) -> str:
        wanted = self.config.event_id_header
        if wanted is not None:
            for name, value in headers:
                if name == wanted:
                    return value.decode("utf-8", "replace")
        return f"{source.topic}:{source.partition}:{source.offset}"

    async def _pump(self) -> None:
        """Send what is due, what failed before, and the ledger records that completed."""
        now = self._clock()
        self._queue.push_all(self.decider.poll(now))
        while self._failed:
            self._queue.push(self._failed.popleft())
        await self._send_all(self._queue.pop_due(now))
        await self._write_ledger()

    async def _send_all(self, emissions: list[Emission]) -> None:
        if not emissions:
            return
        if not self._keep_partition:
            # Partition counts differ: the producer's key hash chooses, one send per record.
            for emission in emissions:
                await self._send(emission)
            return
        by_partition: dict[int, list[Emission]] = defaultdict(list)
        for emission in emissions:
            by_partition[emission.envelope.source.partition].append(emission)
        for partition, group in by_partition.items():
            await send_in_batches(
                self._producer,
                self.route.destination,
                partition,
                group,
                self._emission_record,
                partial(self._on_emissions_ack, partition),
            )

    def _emission_record(self, emission: Emission) -> Record:
        envelope = emission.envelope
        headers = self._telemetry.outgoing_headers(envelope, emission)
        return envelope.key, envelope.value, envelope.timestamp_ms, headers

    async def _send(self, emission: Emission) -> None:
        key, value, timestamp_ms, headers = self._emission_record(emission)
        future = await self._producer.send(
            self.route.destination,
            value=value,
            key=key,
            timestamp_ms=timestamp_ms,
            headers=headers,
        )
        future.add_done_callback(partial(self._on_emission_ack, emission))

    def _on_emission_ack(self, emission: Emission, future: asyncio.Future[Any]) -> None:
        if future.cancelled() or future.exception() is not None:
            self._emissions_failed([emission])
            return
        metadata = future.result()
        self._emission_sent(emission, metadata.partition, metadata.offset)

    def _on_emissions_ack(
        self, partition: int, emissions: Sequence[Emission], base_offset: int | None
    ) -> None:
        if base_offset is None:
            self._emissions_failed(emissions)
            return
        for index, emission in enumerate(emissions):
            self._emission_sent(emission, partition, base_offset + index)

    def _emissions_failed(self, emissions: Sequence[Emission]) -> None:
        # Retried on the next turn; the source offsets stay in flight meanwhile.
        self.counts["resent"] += len(emissions)
        self._failed.extend(emissions)

    def _emission_sent(self, emission: Emission, partition: int, offset: int) -> None:
        self._telemetry.emitted(emission)
        done = self._book.sent(
            emission.envelope.source,
            copy_number=emission.copy,
            planned_delay_ms=emission.planned_delay_ms,
            partition=partition,
            offset=offset,
            now_ms=self._clock(),
            variant=emission.variant,
        )
        if done is not None:
            self._ledger_ready.append(done)
        self._acknowledge(emission.envelope.source)

    async def _write_ledger(self) -> None:
        ready = list(self._ledger_ready)
        self._ledger_ready.clear()
        if not self.config.ledger_enabled:
            for record in ready:
                self._acknowledge(record.source)
            return
        if not ready:
            return
        # Keyed like the producer would (murmur2 of the key), so one entity's records stay
        # in one ledger partition, in order.
        partitions = sorted(await self._producer.partitions_for(self.config.ledger_topic))
        by_partition: dict[int, list[CompletedRecord]] = defaultdict(list)
        for record in ready:
            by_partition[self._ledger_partitioner(record.key, partitions, partitions)].append(
                record
            )
        for partition, group in by_partition.items():
            await send_in_batches(
                self._producer,
                self.config.ledger_topic,
                partition,
                group,
                _ledger_record,
                self._on_ledger_ack,
            )

    def _on_ledger_ack(self, records: Sequence[CompletedRecord], base_offset: int | None) -> None:
        if base_offset is None:
            self._ledger_ready.extend(records)
            return
        for record in records:
            self._acknowledge(record.source)

    def _acknowledge(self, source: SourceCoordinates) -> None:
        self._tracker.acknowledge(source.topic, source.partition, source.offset)
        self._progress.set()

    async def _commit_if_due(self, *, force: bool = False) -> None:
        now = self._clock()
        if not force and now - self._last_commit_ms < self.config.commit_interval_ms:
            return
        self._last_commit_ms = now
        offsets = self._tracker.to_commit()
        if not offsets or self._consumer is None:
            return
        try:
            await self._consumer.commit(
                {
                    TopicPartition(topic, partition): offset
                    for (topic, partition), offset in offsets.items()
                }
            )
        except (CommitFailedError, KafkaError) as exc:
            # Nothing is lost: the same offsets are tried again on the next turn.
            log.warning("commit on %s failed, will retry: %s", self.route.name, exc)
            return
        self._tracker.mark_committed(offsets)

    def _apply_backpressure(self) -> None:
        if self._consumer is not None:
            self._pacing.apply_backpressure(self._consumer, self.held, self.held_bytes)

    def _log_status_if_due(self) -> None:
        self._pacing.log_status_if_due(
            self._clock(), held=self.held, in_flight=self._tracker.in_flight()
        )

    def _wait_ms(self) -> int:
        return wait_ms(self._queue.next_release_ms(), self._clock())

    # ---- draining: on stop and before partitions are handed to another replica ---------

    async def _drain(self) -> None:
        """Release everything held, wait for every acknowledgement, commit."""
        self._queue.push_all(self.decider.flush(self._clock()))
        await self._send_all(self._queue.pop_all())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.drain_timeout_s
        while self._tracker.in_flight() and loop.time() < deadline:
            self._progress.clear()
            await self._producer.flush()
            await self._send_all(list(self._failed))
            self._failed.clear()
            await self._write_ledger()
            if self._tracker.in_flight():
                try:
                    await asyncio.wait_for(self._progress.wait(), timeout=1.0)
                except TimeoutError:
                    continue
        if self._tracker.in_flight():
            log.warning(
                "%s: %d messages still unacknowledged after %.0fs; they will be re-delivered",
                self.route.name,
                self._tracker.in_flight(),
                self.config.drain_timeout_s,
            )
        await self._commit_if_due(force=True)

    async def on_revoked(self, revoked: set[TopicPartition]) -> None:
        if not revoked:
            return
        async with self._lock:
            await self._drain()
            for tp in revoked:
                self._tracker.forget(tp.topic, tp.partition)


def _ledger_record(record: CompletedRecord) -> Record:
    return record.key, record.payload, None, []


class _DrainOnRevoke(ConsumerRebalanceListener):  # type: ignore[misc]
    """Hands partitions over only after everything read from them is sent and committed."""

    def __init__(self, interposer: RouteInterposer) -> None:
        self._interposer = interposer

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._interposer.on_revoked(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        return None
