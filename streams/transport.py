"""What the route loop needs of a Kafka client: the consumer and producer it drives.

aiokafka's `AIOKafkaConsumer` and `AIOKafkaProducer` are the real transport; the in-memory
transport (`streams.memory`) implements the same protocols for unit tests of the loop, and
mypy checks that it does. Each protocol lists exactly what the loop, its two delivery modes
(`streams.at_least_once`, `streams.exactly_once`) and `streams.batches` call, nothing more:

    Consumer                 the route's group consumer: read, pause, commit, seek
    Producer                 at-least-once: whole batches, single sends, flush
    └── TransactionalProducer  exactly-once: the same within a transaction
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Protocol

from aiokafka import TopicPartition

from chaosbus.contracts.records import ConsumedRecord

HeaderList = Sequence[tuple[str, bytes | None]]


class RebalanceListener(Protocol):
    """Told before partitions leave the consumer and after new ones arrive."""

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None: ...

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None: ...


class Consumer(Protocol):
    def subscribe(self, topics: list[str], listener: RebalanceListener) -> None: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def getmany(
        self, *, timeout_ms: int = 0, max_records: int | None = None
    ) -> Mapping[TopicPartition, Sequence[ConsumedRecord]]: ...

    def assignment(self) -> set[TopicPartition]: ...

    def highwater(self, partition: TopicPartition) -> int | None:
        """The partition's end offset as of the last fetch (None before one)."""

    def pause(self, *partitions: TopicPartition) -> None: ...

    def resume(self, *partitions: TopicPartition) -> None: ...

    async def commit(self, offsets: Mapping[TopicPartition, int]) -> None: ...

    async def committed(self, partition: TopicPartition) -> int | None: ...

    def seek(self, partition: TopicPartition, offset: int) -> None: ...

    async def seek_to_committed(self, *partitions: TopicPartition) -> object: ...

    async def seek_to_beginning(self, *partitions: TopicPartition) -> None: ...

    async def seek_to_end(self, *partitions: TopicPartition) -> None: ...


class RecordMetadata(Protocol):
    """Where the broker put a record (for a batch: its first record)."""

    @property
    def topic(self) -> str: ...

    @property
    def partition(self) -> int: ...

    @property
    def offset(self) -> int: ...


class BatchBuilder(Protocol):
    def append(
        self,
        *,
        timestamp: int | None,
        key: bytes | None,
        value: bytes | None,
        headers: HeaderList,
    ) -> object | None:
        """The record's place in the batch, or None when the batch is full."""


class Producer(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def flush(self) -> None: ...

    def create_batch(self) -> BatchBuilder: ...

    async def send_batch(
        self, batch: BatchBuilder, topic: str, *, partition: int
    ) -> asyncio.Future[RecordMetadata]: ...

    async def send(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        partition: int | None = None,
        timestamp_ms: int | None = None,
        headers: HeaderList | None = None,
    ) -> asyncio.Future[RecordMetadata]: ...

    async def partitions_for(self, topic: str) -> set[int]: ...


class TransactionalProducer(Producer, Protocol):
    async def begin_transaction(self) -> None: ...

    async def commit_transaction(self) -> None: ...

    async def abort_transaction(self) -> None: ...

    async def send_offsets_to_transaction(
        self, offsets: Mapping[TopicPartition, int], group_id: str
    ) -> None: ...
