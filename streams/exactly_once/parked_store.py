"""The parked topic on the broker: created compacted if missing, read back on assignment.

`ParkedStore` is what exactly-once delivery needs of it; `KafkaParkedStore` is the broker's,
`streams.memory.MemoryParkedStore` the in-memory transport's.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Protocol

from aiokafka import TopicPartition

from chaosbus.clients.connection import KafkaSettings
from chaosbus.clients.consumers import standalone_consumer, topic_end_offsets
from chaosbus.injectors.envelope import SourceCoordinates
from chaosbus.streams.exactly_once.parked import ParkedSource, rebuild
from chaosbus.streams.topics import TopicAdmin, TopicPolicy


class ParkedStore(Protocol):
    async def ensure(self, topic: str) -> None:
        """The parked topic exists (created compacted if it did not)."""

    async def read(
        self,
        topic: str,
        partitions: set[tuple[str, int]],
        *,
        timeout_s: float,
        unreadable: dict[tuple[str, int], str] | None = None,
    ) -> dict[SourceCoordinates, ParkedSource]:
        """The committed parked set of `partitions` (see `read_parked`)."""


@dataclass(frozen=True)
class KafkaParkedStore:
    kafka: KafkaSettings
    policy: TopicPolicy

    async def ensure(self, topic: str) -> None:
        await ensure_parked_topic(self.kafka, topic, self.policy)

    async def read(
        self,
        topic: str,
        partitions: set[tuple[str, int]],
        *,
        timeout_s: float,
        unreadable: dict[tuple[str, int], str] | None = None,
    ) -> dict[SourceCoordinates, ParkedSource]:
        return await read_parked(
            self.kafka, topic, partitions, timeout_s=timeout_s, unreadable=unreadable
        )


async def ensure_parked_topic(kafka: KafkaSettings, topic: str, policy: TopicPolicy) -> None:
    async with TopicAdmin(kafka) as admin:
        await admin.ensure(topic, policy.shape("parked"))


async def read_parked(
    kafka: KafkaSettings,
    topic: str,
    partitions: set[tuple[str, int]],
    *,
    timeout_s: float = 60,
    unreadable: dict[tuple[str, int], str] | None = None,
) -> dict[SourceCoordinates, ParkedSource]:
    """The committed parked set of `partitions`, read from the beginning to the end.

    read_committed: the end is the last stable offset, so a transaction of a process that
    died is not waited for once the caller's producers have fenced it (their start aborts
    it), and what an aborted transaction parked is never seen.
    """
    async with standalone_consumer(kafka, isolation_level="read_committed") as consumer:
        ends = {
            TopicPartition(topic, p): end
            for p, end in (await topic_end_offsets(consumer, topic)).items()
        }
        tps = list(ends)
        if not tps:
            return {}
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        records: list[tuple[bytes | None, bytes | None]] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            if loop.time() > deadline:
                raise TimeoutError(f"reading {topic} did not reach its end offsets")
            batches = await consumer.getmany(timeout_ms=200, max_records=10_000)
            for tp, batch in batches.items():
                records.extend((r.key, r.value) for r in batch if r.offset < ends[tp])
        return rebuild(records, partitions, unreadable)
