"""An in-memory transport for the route loop, as httpx's MockTransport is to its client.

`MemoryCluster` holds topics as lists of records per partition and committed offsets per
group; `MemoryConsumer` and `MemoryProducer` offer the part of aiokafka's consumer and
producer the route loop uses. A destination can refuse records over a size
(`max_message_bytes`, like the broker's MESSAGE_TOO_LARGE for a whole batch) or hold every
acknowledgement (`acknowledging=False`, a broker that never answers). For unit tests of the
loop's logic only: the real path is proven on the real broker (tests/integration).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from aiokafka import TopicPartition
from aiokafka.errors import MessageSizeTooLargeError

from chaosbus.streams.batches import BATCH_HEADER_BYTES, record_size
from chaosbus.streams.config import InterposerConfig


@dataclass(frozen=True)
class MemoryRecord:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...] = ()
    timestamp: int = 0

    @property
    def serialized_key_size(self) -> int:
        return -1 if self.key is None else len(self.key)

    @property
    def serialized_value_size(self) -> int:
        return -1 if self.value is None else len(self.value)


@dataclass
class MemoryTopic:
    partitions: int
    max_message_bytes: int = 1_048_588
    acknowledging: bool = True
    records: dict[int, list[MemoryRecord]] = field(default_factory=lambda: defaultdict(list))


class MemoryCluster:
    def __init__(self) -> None:
        self.topics: dict[str, MemoryTopic] = {}
        self.committed: dict[str, dict[TopicPartition, int]] = defaultdict(dict)

    def create(self, name: str, partitions: int = 1, **options: Any) -> MemoryTopic:
        self.topics[name] = MemoryTopic(partitions, **options)
        return self.topics[name]

    def append(
        self,
        topic: str,
        partition: int,
        key: bytes | None,
        value: bytes | None,
        headers: tuple[tuple[str, bytes | None], ...] = (),
        timestamp: int = 0,
    ) -> int:
        log = self.topics[topic].records[partition]
        log.append(MemoryRecord(topic, partition, len(log), key, value, headers, timestamp))
        return len(log) - 1

    def values(self, topic: str, partition: int = 0) -> list[bytes | None]:
        return [r.value for r in self.topics[topic].records[partition]]

    def consumer_factory(self) -> Any:
        return lambda config: MemoryConsumer(self, config)

    def producer_factory(self) -> Any:
        return lambda config: MemoryProducer(self)


class MemoryConsumer:
    """A group of one: it owns every partition of the topics it subscribes to."""

    def __init__(self, cluster: MemoryCluster, config: InterposerConfig) -> None:
        self._cluster = cluster
        self._group = config.group_id
        self._assigned: set[TopicPartition] = set()
        self._paused: set[TopicPartition] = set()
        self._positions: dict[TopicPartition, int] = {}

    def subscribe(self, topics: list[str], listener: Any = None) -> None:
        for topic in topics:
            for p in range(self._cluster.topics[topic].partitions):
                tp = TopicPartition(topic, p)
                self._assigned.add(tp)
                self._positions[tp] = self._cluster.committed[self._group].get(tp, 0)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    def assignment(self) -> set[TopicPartition]:
        return set(self._assigned)

    def pause(self, *tps: TopicPartition) -> None:
        self._paused.update(tps)

    def resume(self, *tps: TopicPartition) -> None:
        self._paused.difference_update(tps)

    def paused(self) -> set[TopicPartition]:
        return set(self._paused)

    async def getmany(self, timeout_ms: int = 0, max_records: int | None = None) -> Any:
        out: dict[TopicPartition, list[MemoryRecord]] = {}
        budget = max_records or 1 << 30
        for tp in sorted(self._assigned - self._paused):
            log = self._cluster.topics[tp.topic].records[tp.partition]
            chunk = log[self._positions[tp] : self._positions[tp] + budget]
            if chunk:
                out[tp] = chunk
                self._positions[tp] += len(chunk)
                budget -= len(chunk)
        if not out:
            await asyncio.sleep(min(timeout_ms, 10) / 1000)
        return out

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self._cluster.committed[self._group].update(offsets)


class _Batch:
    def __init__(self, limit: int) -> None:
        self.records: list[tuple[bytes | None, bytes | None, Any, int | None]] = []
        self._size = BATCH_HEADER_BYTES
        self._limit = limit

    def append(
        self, *, timestamp: int | None, key: bytes | None, value: bytes | None, headers: Any
    ) -> object | None:
        size = record_size((key, value, timestamp, list(headers)))
        if self.records and self._size + size > self._limit:
            return None
        self.records.append((key, value, tuple(headers), timestamp))
        self._size += size
        return object()

    @property
    def size(self) -> int:
        return self._size


@dataclass(frozen=True)
class _Metadata:
    partition: int
    offset: int


class MemoryProducer:
    """Batches land whole or not at all, as a broker takes a record batch."""

    def __init__(self, cluster: MemoryCluster, batch_bytes: int = 256 * 1024) -> None:
        self._cluster = cluster
        self._batch_bytes = batch_bytes
        self.pending: list[tuple[asyncio.Future[Any], str, int, _Batch]] = []

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    def create_batch(self) -> _Batch:
        return _Batch(self._batch_bytes)

    async def send_batch(self, batch: _Batch, topic: str, *, partition: int) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        destination = self._cluster.topics[topic]
        if batch.size > destination.max_message_bytes:
            future.set_exception(MessageSizeTooLargeError())
        elif destination.acknowledging:
            future.set_result(self._land(topic, partition, batch))
        else:
            self.pending.append((future, topic, partition, batch))
        return future

    async def send(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        partition: int | None = None,
        timestamp_ms: int | None = None,
        headers: Any = (),
    ) -> Any:
        batch = _Batch(1 << 30)
        batch.append(timestamp=timestamp_ms, key=key, value=value, headers=headers or ())
        chosen = partition if partition is not None else 0
        return await self.send_batch(batch, topic, partition=chosen)

    def _land(self, topic: str, partition: int, batch: _Batch) -> _Metadata:
        base = len(self._cluster.topics[topic].records[partition])
        for key, value, headers, timestamp in batch.records:
            self._cluster.append(topic, partition, key, value, headers, timestamp or 0)
        return _Metadata(partition, base)

    async def partitions_for(self, topic: str) -> set[int]:
        return set(range(self._cluster.topics[topic].partitions))

    async def flush(self) -> None:
        return None
