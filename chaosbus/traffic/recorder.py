"""`chaosbus record`: a window of a topic, read-only, into a recording file.

    describe the topic (missing, or not ours to describe: one line, exit 2)
    → assign every partition to a consumer without a group: it joins nothing, commits nothing
    → the end offsets now (the window ends here); the start is the first offset at or after
      now - window (`offsets_for_times`), or the beginning of what the topic retains
    → fetch; each partition's records queue up, and a partition whose queue holds
      `PARTITION_BUFFER` records is paused until it drains
    → merge by timestamp, taking each partition's records in offset order (so per-key order,
      which lives inside a partition, is exactly the source's)
    → the privacy policy (`Anonymiser`) → `RecordingWriter`
    stops at the end offsets, or at the count, byte or time bound, or on `stop`

`read_window` reads the same window into memory instead of a file, unanonymised: the dry
run's input (`chaosbus plan`, `chaosbus.planning`), read-only like a recording.

Memory is bounded by the fetch buffers (`FETCH_MAX_BYTES`), the per-partition queues and
one block of the file, not by the size of the window.
"""

from __future__ import annotations

import asyncio
import heapq
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

import chaosbus
from chaosbus.clients.connection import KafkaSettings
from chaosbus.clients.consumers import standalone_consumer
from chaosbus.contracts.clock import Clock, wall_clock_ms
from chaosbus.streams.topics import TopicAdmin
from chaosbus.traffic.errors import TrafficError
from chaosbus.traffic.file_format import RecordingEnd, RecordingWriter
from chaosbus.traffic.privacy import Anonymiser, PrivacyPolicy
from chaosbus.traffic.records import TrafficRecord

PARTITION_BUFFER = 2_000
FETCH_MAX_BYTES = 8 * 1024 * 1024
PARTITION_FETCH_BYTES = 1024 * 1024
FETCH_RECORDS = 5_000
DEFAULT_MAX_COUNT = 1_000_000
DEFAULT_MAX_BYTES = 1024 * 1024 * 1024
DEFAULT_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class RecordOptions:
    topic: str
    out: Path
    window_s: float | None = None  # None: from the beginning of what the topic retains
    max_count: int = DEFAULT_MAX_COUNT
    max_bytes: int = DEFAULT_MAX_BYTES
    timeout_s: float = DEFAULT_TIMEOUT_S


class Sink(Protocol):
    """Where the merged records go: a recording file, or memory (`read_window`)."""

    @property
    def end(self) -> RecordingEnd: ...

    def write(self, record: TrafficRecord) -> None: ...


@dataclass
class MemorySink:
    records: list[TrafficRecord] = field(default_factory=list)
    end: RecordingEnd = field(default_factory=RecordingEnd)

    def write(self, record: TrafficRecord) -> None:
        self.records.append(record)
        self.end.add(record)


@dataclass(frozen=True)
class Window:
    """A window read into memory: its records in timestamp order (each partition's in
    offset order), what ended it, and the offsets it spans."""

    topic: str
    records: tuple[TrafficRecord, ...]
    end: RecordingEnd
    partitions: int
    start_offsets: dict[int, int]
    end_offsets: dict[int, int]
    from_ms: int | None
    to_ms: int


@dataclass
class RecordResult:
    end: RecordingEnd
    partitions: int
    from_ms: int | None
    to_ms: int
    hashed: Counter[str] = field(default_factory=Counter)


async def record_topic(
    kafka: KafkaSettings,
    options: RecordOptions,
    anonymiser: Anonymiser | None = None,
    *,
    stop: asyncio.Event | None = None,
    clock: Clock = wall_clock_ms,
) -> RecordResult:
    """Record the window `options` names; raises `TrafficError` for a topic it cannot read."""
    anonymiser = anonymiser or Anonymiser(PrivacyPolicy(), None)
    partitions = await _partitions(kafka, options.topic)
    to_ms = clock()
    from_ms = None if options.window_s is None else to_ms - int(options.window_s * 1000)
    async with standalone_consumer(
        kafka,
        isolation_level="read_committed",
        fetch_max_bytes=FETCH_MAX_BYTES,
        max_partition_fetch_bytes=PARTITION_FETCH_BYTES,
    ) as consumer:
        tps = [TopicPartition(options.topic, p) for p in range(partitions)]
        consumer.assign(tps)
        starts, ends = await _bounds(consumer, tps, from_ms)
        meta = _meta(options, anonymiser, partitions, starts, ends, from_ms, to_ms)
        with RecordingWriter(options.out, meta) as writer:
            merge = _Merge(consumer, options.topic, starts, ends)
            await merge.run(writer, anonymiser, options, stop or asyncio.Event())
            writer.end.skipped = dict(anonymiser.skipped)
    return RecordResult(writer.end, partitions, from_ms, to_ms, anonymiser.counts)


async def read_window(
    kafka: KafkaSettings,
    options: RecordOptions,
    *,
    stop: asyncio.Event | None = None,
    clock: Clock = wall_clock_ms,
) -> Window:
    """The window `options` names (its `out` unused), read-only into memory, as it is."""
    partitions = await _partitions(kafka, options.topic)
    to_ms = clock()
    from_ms = None if options.window_s is None else to_ms - int(options.window_s * 1000)
    sink = MemorySink()
    async with standalone_consumer(
        kafka,
        isolation_level="read_committed",
        fetch_max_bytes=FETCH_MAX_BYTES,
        max_partition_fetch_bytes=PARTITION_FETCH_BYTES,
    ) as consumer:
        tps = [TopicPartition(options.topic, p) for p in range(partitions)]
        consumer.assign(tps)
        starts, ends = await _bounds(consumer, tps, from_ms)
        merge = _Merge(consumer, options.topic, starts, ends)
        await merge.run(sink, Anonymiser(PrivacyPolicy(), None), options, stop or asyncio.Event())
    return Window(
        options.topic, tuple(sink.records), sink.end, partitions, starts, ends, from_ms, to_ms
    )


async def _partitions(kafka: KafkaSettings, topic: str) -> int:
    async with TopicAdmin(kafka) as admin:
        try:
            counts = await admin.partition_counts([topic])
        except KafkaError as exc:
            raise TrafficError(f"cannot describe topic {topic!r}: {exc}") from exc
    if topic not in counts:
        raise TrafficError(
            f"topic {topic!r} does not exist on {kafka.describe()} (or this user may not "
            "describe it)"
        )
    return counts[topic]


async def _bounds(
    consumer: AIOKafkaConsumer, tps: list[TopicPartition], from_ms: int | None
) -> tuple[dict[int, int], dict[int, int]]:
    try:
        ends = {tp.partition: o for tp, o in (await consumer.end_offsets(tps)).items()}
        begins = {tp.partition: o for tp, o in (await consumer.beginning_offsets(tps)).items()}
        starts = dict(begins)
        if from_ms is not None:
            found = await consumer.offsets_for_times(dict.fromkeys(tps, from_ms))
            for tp, hit in found.items():
                # None: no record at or after the window's start in this partition.
                starts[tp.partition] = ends[tp.partition] if hit is None else hit.offset
    except KafkaError as exc:
        raise TrafficError(f"cannot read topic {tps[0].topic!r}: {exc}") from exc
    for tp in tps:
        consumer.seek(tp, starts[tp.partition])
    return starts, ends


def _meta(
    options: RecordOptions,
    anonymiser: Anonymiser,
    partitions: int,
    starts: dict[int, int],
    ends: dict[int, int],
    from_ms: int | None,
    to_ms: int,
) -> dict[str, Any]:
    return {
        "created_ms": to_ms,
        "chaosbus": chaosbus.__version__,
        "source": {
            "topic": options.topic,
            "partitions": partitions,
            "start_offsets": {str(p): o for p, o in sorted(starts.items())},
            "end_offsets": {str(p): o for p, o in sorted(ends.items())},
            "isolation": "read_committed",
        },
        "window": {
            "from_ms": from_ms,
            "to_ms": to_ms,
            "max_count": options.max_count,
            "max_bytes": options.max_bytes,
            "timeout_s": options.timeout_s,
        },
        "privacy": anonymiser.policy.describe(anonymiser.key_id),
    }


class _Merge:
    """Partitions' records in timestamp order, each partition's own order kept."""

    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        topic: str,
        starts: dict[int, int],
        ends: dict[int, int],
    ) -> None:
        self.consumer = consumer
        self.topic = topic
        self.ends = ends
        self.tps = {p: TopicPartition(topic, p) for p in ends}
        self.queues: dict[int, deque[TrafficRecord]] = {p: deque() for p in ends}
        self.finished = {p for p in ends if starts[p] >= ends[p]}
        self.waiting = set(ends) - self.finished  # unfinished with nothing queued
        self.heads: list[tuple[int, int]] = []  # (timestamp, partition) of queued heads
        self.paused: set[int] = set()
        for p in self.finished:
            consumer.pause(self.tps[p])

    async def run(
        self,
        writer: Sink,
        anonymiser: Anonymiser,
        options: RecordOptions,
        stop: asyncio.Event,
    ) -> None:
        deadline = time.monotonic() + options.timeout_s
        end = writer.end
        while True:
            while self.heads and not self.waiting:
                record = self._pop()
                if end.records >= options.max_count:
                    end.ended_by = "count"
                    return
                if end.bytes + record.size > options.max_bytes:
                    end.ended_by = "bytes"
                    return
                kept = anonymiser.apply(record)
                if kept is not None:
                    writer.write(kept)
            if not self.heads and not self.waiting:
                return  # every partition read to its end offset
            if stop.is_set():
                end.ended_by = "signal"
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                end.ended_by = "time"
                return
            await self._fetch(min(remaining, 0.2))

    def _pop(self) -> TrafficRecord:
        _, partition = heapq.heappop(self.heads)
        queue = self.queues[partition]
        record = queue.popleft()
        if queue:
            heapq.heappush(self.heads, (queue[0].timestamp_ms, partition))
        elif partition not in self.finished:
            self.waiting.add(partition)
        if partition in self.paused and len(queue) < PARTITION_BUFFER // 2:
            # Paused for a full queue, not finished: a finished one is paused for good.
            self.paused.discard(partition)
            self.consumer.resume(self.tps[partition])
        return record

    async def _fetch(self, timeout_s: float) -> None:
        try:
            fetched = await self.consumer.getmany(
                timeout_ms=int(timeout_s * 1000), max_records=FETCH_RECORDS
            )
        except KafkaError as exc:
            raise TrafficError(f"reading {self.topic!r} failed: {exc}") from exc
        for tp, batch in fetched.items():
            self._queue(tp.partition, batch)
        for partition in list(self.waiting):
            tp = self.tps[partition]
            if await self.consumer.position(tp) >= self.ends[partition]:
                self._finish(partition)

    def _queue(self, partition: int, batch: list[Any]) -> None:
        queue, end = self.queues[partition], self.ends[partition]
        was_empty = not queue
        for r in batch:
            if r.offset >= end:
                break  # written after the window closed
            queue.append(
                TrafficRecord(r.key, r.value, tuple(r.headers), r.timestamp, partition, r.offset)
            )
        if batch and batch[-1].offset >= end - 1:
            self._finish(partition)
        if queue and was_empty:
            self.waiting.discard(partition)
            heapq.heappush(self.heads, (queue[0].timestamp_ms, partition))
        if len(queue) >= PARTITION_BUFFER and partition not in self.finished:
            self.paused.add(partition)
            self.consumer.pause(self.tps[partition])

    def _finish(self, partition: int) -> None:
        if partition in self.finished:
            return
        self.finished.add(partition)
        self.paused.discard(partition)
        self.consumer.pause(self.tps[partition])
        if not self.queues[partition]:
            self.waiting.discard(partition)
