"""An in-memory transport for the route loop, as httpx's MockTransport is to its client.

`MemoryCluster` holds topics as lists of records per partition and committed offsets per
group; `MemoryConsumer` and `MemoryProducer` implement the route loop's `Consumer` and
`TransactionalProducer` (`streams.transport`, checked by mypy through the factories below),
and `MemoryParkedStore` the exactly-once parked store. A destination can refuse records
over a size (`max_message_bytes`, like the broker's MESSAGE_TOO_LARGE for a whole batch),
hold every acknowledgement (`acknowledging=False`, a broker that never answers) or hand back
cancelled send futures (`cancelled_sends`, what a client does with requests in flight to a
broker that was killed). A transaction's records land, and its offsets commit, only when it
commits (consumers read committed data). For unit tests of the loop's logic only: the real
path is proven on the real broker (tests/integration).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from aiokafka import TopicPartition
from aiokafka.errors import MessageSizeTooLargeError

from chaosbus.injectors.envelope import Headers, SourceCoordinates
from chaosbus.streams.batches import BATCH_HEADER_BYTES, record_size
from chaosbus.streams.config import InterposerConfig
from chaosbus.streams.exactly_once.parked import ParkedSource, rebuild
from chaosbus.streams.transport import (
    BatchBuilder,
    Consumer,
    HeaderList,
    RebalanceListener,
    RecordMetadata,
    TransactionalProducer,
)


@dataclass(frozen=True)
class MemoryRecord:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Headers = ()
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
    # The next this many sends to the topic get a cancelled future instead of an answer.
    cancelled_sends: int = 0
    records: dict[int, list[MemoryRecord]] = field(default_factory=lambda: defaultdict(list))


class MemoryCluster:
    def __init__(self) -> None:
        self.topics: dict[str, MemoryTopic] = {}
        self.committed: dict[str, dict[TopicPartition, int]] = defaultdict(dict)

    def create(
        self,
        name: str,
        partitions: int = 1,
        *,
        max_message_bytes: int = 1_048_588,
        acknowledging: bool = True,
        cancelled_sends: int = 0,
    ) -> MemoryTopic:
        self.topics[name] = MemoryTopic(
            partitions,
            max_message_bytes=max_message_bytes,
            acknowledging=acknowledging,
            cancelled_sends=cancelled_sends,
        )
        return self.topics[name]

    def append(
        self,
        topic: str,
        partition: int,
        key: bytes | None,
        value: bytes | None,
        headers: Headers = (),
        timestamp: int = 0,
    ) -> int:
        log = self.topics[topic].records[partition]
        log.append(MemoryRecord(topic, partition, len(log), key, value, headers, timestamp))
        return len(log) - 1

    def values(self, topic: str, partition: int = 0) -> list[bytes | None]:
        return [r.value for r in self.topics[topic].records[partition]]

    def consumer_factory(self) -> Callable[[InterposerConfig], Consumer]:
        return lambda config: MemoryConsumer(self, config.group_id)

    def producer_factory(self) -> Callable[[InterposerConfig], TransactionalProducer]:
        return lambda config: MemoryProducer(self)

    def transactional_factory(self) -> Callable[[InterposerConfig, str], TransactionalProducer]:
        return lambda config, transactional_id: MemoryProducer(self)


class MemoryConsumer:
    """A group of one: it owns every partition of the topics it subscribes to (told to its
    listener when it starts), or those it is assigned."""

    def __init__(self, cluster: MemoryCluster, group_id: str | None = None) -> None:
        self._cluster = cluster
        self._group = group_id or ""
        self._assigned: set[TopicPartition] = set()
        self._paused: set[TopicPartition] = set()
        self._positions: dict[TopicPartition, int] = {}
        self._listener: RebalanceListener | None = None

    def subscribe(self, topics: list[str], listener: RebalanceListener | None = None) -> None:
        self._listener = listener
        self.assign(
            [
                TopicPartition(topic, p)
                for topic in topics
                for p in range(self._cluster.topics[topic].partitions)
            ]
        )

    def assign(self, partitions: Sequence[TopicPartition]) -> None:
        for tp in partitions:
            self._assigned.add(tp)
            self._positions[tp] = self._cluster.committed[self._group].get(tp, 0)

    async def start(self) -> None:
        if self._listener is not None and self._assigned:
            await self._listener.on_partitions_assigned(set(self._assigned))

    async def stop(self) -> None:
        return None

    def assignment(self) -> set[TopicPartition]:
        return set(self._assigned)

    def highwater(self, partition: TopicPartition) -> int | None:
        return len(self._cluster.topics[partition.topic].records[partition.partition])

    def pause(self, *partitions: TopicPartition) -> None:
        self._paused.update(partitions)

    def resume(self, *partitions: TopicPartition) -> None:
        self._paused.difference_update(partitions)

    def paused(self) -> set[TopicPartition]:
        return set(self._paused)

    async def getmany(
        self, *, timeout_ms: int = 0, max_records: int | None = None
    ) -> dict[TopicPartition, list[MemoryRecord]]:
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

    async def commit(self, offsets: Mapping[TopicPartition, int]) -> None:
        self._cluster.committed[self._group].update(offsets)

    async def committed(self, partition: TopicPartition) -> int | None:
        return self._cluster.committed[self._group].get(partition)

    def seek(self, partition: TopicPartition, offset: int) -> None:
        self._positions[partition] = offset

    async def seek_to_committed(self, *partitions: TopicPartition) -> dict[TopicPartition, int]:
        committed = self._cluster.committed[self._group]
        for tp in partitions or tuple(self._assigned):
            self._positions[tp] = committed.get(tp, 0)
        return {tp: self._positions[tp] for tp in partitions}

    async def seek_to_beginning(self, *partitions: TopicPartition) -> None:
        for tp in partitions or tuple(self._assigned):
            self._positions[tp] = 0

    async def seek_to_end(self, *partitions: TopicPartition) -> None:
        for tp in partitions or tuple(self._assigned):
            self._positions[tp] = len(self._cluster.topics[tp.topic].records[tp.partition])

    async def position(self, partition: TopicPartition) -> int:
        return self._positions[partition]

    def partitions_for_topic(self, topic: str) -> set[int] | None:
        found = self._cluster.topics.get(topic)
        return None if found is None else set(range(found.partitions))

    async def end_offsets(self, partitions: Sequence[TopicPartition]) -> dict[TopicPartition, int]:
        topics = self._cluster.topics
        return {tp: len(topics[tp.topic].records[tp.partition]) for tp in partitions}


class _Batch:
    def __init__(self, limit: int) -> None:
        self.records: list[tuple[bytes | None, bytes | None, Headers, int | None]] = []
        self._size = BATCH_HEADER_BYTES
        self._limit = limit

    def append(
        self,
        *,
        timestamp: int | None,
        key: bytes | None,
        value: bytes | None,
        headers: HeaderList,
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
    topic: str
    partition: int
    offset: int


@dataclass
class _Transaction:
    batches: list[tuple[str, int, _Batch]] = field(default_factory=list)
    offsets: dict[str, dict[TopicPartition, int]] = field(default_factory=dict)

    def pending(self, topic: str, partition: int) -> int:
        return sum(len(b.records) for t, p, b in self.batches if (t, p) == (topic, partition))


class MemoryProducer:
    """Batches land whole or not at all, as a broker takes a record batch; inside a
    transaction, they land when it commits."""

    def __init__(self, cluster: MemoryCluster, batch_bytes: int = 256 * 1024) -> None:
        self._cluster = cluster
        self._batch_bytes = batch_bytes
        self._transaction: _Transaction | None = None
        self.pending: list[tuple[asyncio.Future[RecordMetadata], str, int, _Batch]] = []

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    def create_batch(self) -> _Batch:
        return _Batch(self._batch_bytes)

    async def send_batch(
        self, batch: BatchBuilder, topic: str, *, partition: int
    ) -> asyncio.Future[RecordMetadata]:
        assert isinstance(batch, _Batch), "a batch of this producer's create_batch()"
        future: asyncio.Future[RecordMetadata] = asyncio.get_running_loop().create_future()
        destination = self._cluster.topics[topic]
        if destination.cancelled_sends:
            destination.cancelled_sends -= 1
            future.cancel()
        elif batch.size > destination.max_message_bytes:
            future.set_exception(MessageSizeTooLargeError())
        elif self._transaction is not None:
            base = len(destination.records[partition]) + self._transaction.pending(topic, partition)
            self._transaction.batches.append((topic, partition, batch))
            future.set_result(_Metadata(topic, partition, base))
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
        headers: HeaderList | None = None,
    ) -> asyncio.Future[RecordMetadata]:
        batch = _Batch(1 << 30)
        batch.append(timestamp=timestamp_ms, key=key, value=value, headers=headers or ())
        chosen = partition if partition is not None else 0
        return await self.send_batch(batch, topic, partition=chosen)

    def _land(self, topic: str, partition: int, batch: _Batch) -> _Metadata:
        base = len(self._cluster.topics[topic].records[partition])
        for key, value, headers, timestamp in batch.records:
            self._cluster.append(topic, partition, key, value, headers, timestamp or 0)
        return _Metadata(topic, partition, base)

    async def partitions_for(self, topic: str) -> set[int]:
        return set(range(self._cluster.topics[topic].partitions))

    async def flush(self) -> None:
        return None

    async def begin_transaction(self) -> None:
        assert self._transaction is None, "a transaction is already open"
        self._transaction = _Transaction()

    async def send_offsets_to_transaction(
        self, offsets: Mapping[TopicPartition, int], group_id: str
    ) -> None:
        assert self._transaction is not None, "no transaction open"
        self._transaction.offsets.setdefault(group_id, {}).update(offsets)

    async def commit_transaction(self) -> None:
        transaction, self._transaction = self._transaction, None
        assert transaction is not None, "no transaction open"
        for topic, partition, batch in transaction.batches:
            self._land(topic, partition, batch)
        for group, offsets in transaction.offsets.items():
            self._cluster.committed[group].update(offsets)

    async def abort_transaction(self) -> None:
        self._transaction = None


class MemoryParkedStore:
    """The exactly-once parked topic, in the cluster: what committed transactions parked."""

    def __init__(self, cluster: MemoryCluster) -> None:
        self._cluster = cluster

    async def ensure(self, topic: str) -> None:
        if topic not in self._cluster.topics:
            self._cluster.create(topic, 1)

    async def read(
        self,
        topic: str,
        partitions: set[tuple[str, int]],
        *,
        timeout_s: float,
        unreadable: dict[tuple[str, int], str] | None = None,
    ) -> dict[SourceCoordinates, ParkedSource]:
        logs = self._cluster.topics[topic].records
        records = [(r.key, r.value) for p in sorted(logs) for r in logs[p]]
        return rebuild(records, partitions, unreadable)
