"""One transactional producer per assigned input partition, with a stable transactional id.

aiokafka 0.14 has no KIP-447 (`send_offsets_to_transaction` takes a group id, not the
consumer's group metadata), so the broker cannot fence a zombie by group generation. A
transactional id per input partition does it instead: whoever is assigned the partition
next starts a producer with the same id, which bumps the epoch, fences the old process and
aborts its open transaction.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiokafka import TopicPartition

from chaosbus.streams.clients import stop_producer, transactional_producer
from chaosbus.streams.config import InterposerConfig
from chaosbus.streams.transport import TransactionalProducer


def transactional_id(group_id: str, tp: TopicPartition) -> str:
    return f"chaosbus.{group_id}.{tp.topic}.{tp.partition}"


class PartitionProducers:
    """`async with PartitionProducers(...) as producers:` — every producer stopped on exit."""

    def __init__(
        self,
        config: InterposerConfig,
        factory: Callable[[InterposerConfig, str], TransactionalProducer] = (
            transactional_producer
        ),
    ) -> None:
        self._config = config
        self._factory = factory
        self._group_id = config.group_id
        self._producers: dict[TopicPartition, TransactionalProducer] = {}

    async def __aenter__(self) -> PartitionProducers:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.remove(set(self._producers))

    def __contains__(self, tp: TopicPartition) -> bool:
        return tp in self._producers

    def __getitem__(self, tp: TopicPartition) -> TransactionalProducer:
        return self._producers[tp]

    def owned(self) -> set[TopicPartition]:
        return set(self._producers)

    async def add(self, partitions: set[TopicPartition]) -> None:
        new = [tp for tp in partitions if tp not in self._producers]
        for tp in new:
            self._producers[tp] = self._factory(self._config, transactional_id(self._group_id, tp))
        # start() runs InitProducerId: the fencing (and abort of a zombie's transaction).
        await asyncio.gather(*(self._producers[tp].start() for tp in new))

    async def remove(self, partitions: set[TopicPartition]) -> None:
        gone = [self._producers.pop(tp) for tp in partitions if tp in self._producers]
        # Bounded, as the shared producer's stop: a producer whose broker died must not keep
        # a revoked partition (or the route's end) waiting; its open transaction is aborted
        # by the broker's timeout or the next owner's fencing.
        await asyncio.gather(*(stop_producer(p) for p in gone))
