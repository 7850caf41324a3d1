"""`chaosbus replay` and an experiment's workload: records written to a topic, paced.

    the destination's partitions (missing: created with the source's count, or exit 2)
    → for each lap: records in file order → fresh ids (`IdShifter`, with --shift-ids)
      → due time (`Schedule`) → queued per destination partition
      → once the next record is not yet due (or `FLUSH_RECORDS` are queued): what is queued
        goes out, a few records one `send` each (on time, never waiting for a batch to
        leave), many as whole producer batches (`streams.batches`); then sleep
    → flush, wait for every acknowledgement; a refused batch stops the replay (exit 2)

Placement: with as many destination partitions as the recording has, a record keeps its
partition (the source's layout, skew included); otherwise the producer's key hash
(murmur2, as the Java client) chooses, and a keyless record keeps its partition modulo the
count. Either way one key goes to one partition, in file order: per-key order is the
recording's. Records get the time they are sent as their timestamp.

Memory: one block of the file, at most `FLUSH_RECORDS` queued records, and the producer's
batches (one pending per partition: `send_batch` waits for the previous to drain).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.partitioner import murmur2

from chaosbus.clients.connection import KafkaSettings, why_unreachable
from chaosbus.streams.batches import Record, send_in_batches
from chaosbus.streams.clients import stop_producer
from chaosbus.streams.topics import TopicAdmin, TopicPolicy
from chaosbus.traffic.errors import TrafficError
from chaosbus.traffic.file_format import RecordingReader
from chaosbus.traffic.pacing import IdShifter, Pace, Schedule
from chaosbus.traffic.records import UNKNOWN_PARTITION, TrafficRecord

FLUSH_RECORDS = 5_000
# Below this many due records, each is sent on its own; above, as whole batches.
FEW_RECORDS = 100
MIN_SLEEP_S = 0.001
PRODUCER_BATCH_BYTES = 256 * 1024

Records = Callable[[], Iterator[TrafficRecord]]
"""A fresh iterator over the records, once per lap."""


@dataclass(frozen=True)
class ReplayOptions:
    topic: str
    pace: Pace = field(default_factory=Pace)
    loop: bool = False
    max_duration_s: float | None = None  # a bound for --loop; None: until the end or `stop`
    shift: IdShifter | None = None
    create_topic: bool = False


@dataclass
class ReplayResult:
    sent: int = 0
    laps: int = 0
    elapsed_s: float = 0.0
    ended_by: str = "end"  # end, duration, signal
    partitions: int = 0
    errors: list[str] = field(default_factory=list)


def file_records(path: Path) -> Records:
    """The records of a recording, read afresh for each lap (one block in memory)."""

    def records() -> Iterator[TrafficRecord]:
        with RecordingReader(path) as reader:
            yield from reader

    return records


async def replay(
    kafka: KafkaSettings,
    records: Records,
    options: ReplayOptions,
    *,
    source_partitions: int | None,
    create_partitions: int | None = None,
    stop: asyncio.Event | None = None,
) -> ReplayResult:
    """Write the records to `options.topic`; raises `TrafficError` for a topic it cannot use.

    A missing topic is created (with `options.create_topic`) with `create_partitions`, else
    the recording's count, else 1."""
    wanted = create_partitions or source_partitions or 1
    partitions = await _destination(kafka, options.topic, wanted, options.create_topic)
    producer = AIOKafkaProducer(
        **kafka.client_options(),
        enable_idempotence=True,
        linger_ms=0,
        max_batch_size=PRODUCER_BATCH_BYTES,
    )
    try:
        await producer.start()
    except (KafkaError, OSError) as exc:
        await producer.stop()
        raise await why_unreachable(kafka) from exc
    sender = _Sender(producer, options, partitions, partitions == source_partitions)
    try:
        await sender.run(records, stop or asyncio.Event())
    finally:
        await stop_producer(producer)
    result = sender.result
    if result.errors:
        raise TrafficError(
            f"the broker refused records for {options.topic!r}: {result.errors[0]} "
            f"({result.sent} sent before)"
        )
    return result


async def _destination(kafka: KafkaSettings, topic: str, wanted: int, create: bool) -> int:
    async with TopicAdmin(kafka) as admin:
        counts = await admin.partition_counts([topic])
        if topic in counts:
            return counts[topic]
        if not create:
            raise TrafficError(
                f"topic {topic!r} does not exist on {kafka.describe()} (pass --create-topic "
                "to create it with the recording's partition count)"
            )
        await admin.ensure(topic, TopicPolicy().shape("destination", wanted))
        return wanted


class _Sender:
    def __init__(
        self, producer: AIOKafkaProducer, options: ReplayOptions, partitions: int, keep: bool
    ) -> None:
        self.producer = producer
        self.options = options
        self.partitions = partitions
        self.keep_partition = keep
        self.result = ReplayResult(partitions=partitions)
        self.queued: dict[int, list[TrafficRecord]] = {}
        self.count = 0  # queued, not yet handed to the producer
        self.taken = 0  # read from the records, every lap
        self._keyless = 0

    async def run(self, records: Records, stop: asyncio.Event) -> None:
        options, schedule = self.options, Schedule(self.options.pace)
        started = time.monotonic()
        deadline = None if options.max_duration_s is None else started + options.max_duration_s
        try:
            while True:
                for record in records():
                    if options.shift is not None:
                        record = options.shift.apply(record)
                    due = started + schedule.due(record)
                    if not await self._until(due, stop, deadline):
                        return
                    self._queue(record)
                    if self.count >= FLUSH_RECORDS:
                        await self._flush()
                self.result.laps += 1
                if not options.loop or self.taken == 0:
                    return
                schedule.next_lap()
                if options.shift is not None:
                    options.shift.next_lap()
        finally:
            await self._flush()
            with contextlib.suppress(KafkaError):
                await self.producer.flush()
            self.result.elapsed_s = time.monotonic() - started

    async def _until(self, due: float, stop: asyncio.Event, deadline: float | None) -> bool:
        """Wait until `due`, sending what is queued first; False when the replay must end."""
        now = time.monotonic()
        if deadline is not None and due >= deadline:
            await self._flush()
            await _sleep(deadline - time.monotonic(), stop)
            self.result.ended_by = "signal" if stop.is_set() else "duration"
            return False
        if due - now > MIN_SLEEP_S:
            await self._flush()
            await _sleep(due - time.monotonic(), stop)
        if stop.is_set():
            self.result.ended_by = "signal"
            return False
        return True

    def _queue(self, record: TrafficRecord) -> None:
        self.queued.setdefault(self._partition(record), []).append(record)
        self.count += 1
        self.taken += 1

    def _partition(self, record: TrafficRecord) -> int:
        if self.keep_partition and record.partition != UNKNOWN_PARTITION:
            return record.partition
        if record.key is not None:
            hashed: int = murmur2(record.key)
            return (hashed & 0x7FFFFFFF) % self.partitions
        if record.partition != UNKNOWN_PARTITION:
            return record.partition % self.partitions
        self._keyless += 1
        return self._keyless % self.partitions

    async def _flush(self) -> None:
        queued, count = self.queued, self.count
        self.queued, self.count = {}, 0
        for partition, items in queued.items():
            try:
                if count < FEW_RECORDS:
                    await self._send_each(partition, items)
                else:
                    await send_in_batches(
                        self.producer, self.options.topic, partition, items, _as_record, self._done
                    )
            except KafkaError as exc:
                self.result.errors.append(str(exc))
                raise TrafficError(
                    f"the broker refused records for {self.options.topic!r}: {exc}"
                ) from exc

    async def _send_each(self, partition: int, items: list[TrafficRecord]) -> None:
        """A paced replay's few due records, each appended now (its timestamp is now).

        `send_batch` would first wait for the partition's previous batch to leave, a broker
        round trip that pushes every record behind it off its schedule; `send` appends to
        the batch that is forming and returns.
        """
        for item in items:
            future = await self.producer.send(
                self.options.topic,
                key=item.key,
                value=item.value,
                partition=partition,
                headers=list(item.headers),
            )
            future.add_done_callback(partial(self._acknowledged, item))

    def _acknowledged(self, item: TrafficRecord, future: asyncio.Future[object]) -> None:
        error = None if future.cancelled() else future.exception()
        if future.cancelled():
            error = asyncio.CancelledError()
        self._done([item], None, error)

    def _done(
        self, items: Sequence[TrafficRecord], _offset: int | None, error: BaseException | None
    ) -> None:
        if error is None:
            self.result.sent += len(items)
        else:
            self.result.errors.append(str(error) or type(error).__name__)


def _as_record(record: TrafficRecord) -> Record:
    # No timestamp: the producer stamps the time of sending, so the replay is live traffic.
    return record.key, record.value, None, list(record.headers)


async def _sleep(seconds: float, stop: asyncio.Event) -> None:
    if seconds <= 0:
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
