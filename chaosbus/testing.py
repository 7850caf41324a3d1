"""Helpers for tests against the real local stack, public so users' own tests can use them.

Nothing here mocks a broker: these produce to and read from real topics.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError

from chaosbus.clients.connection import KafkaSettings
from chaosbus.clients.consumers import standalone_consumer, topic_end_offsets
from chaosbus.contracts.ledger_record import LedgerRecord, decode_ledger
from chaosbus.local import ports
from chaosbus.local.kafka_node import broker_answers
from chaosbus.local.redis_node import redis_answers
from chaosbus.streams.topics import TopicAdmin

T = TypeVar("T")


@dataclass(frozen=True)
class Message:
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...] = ()
    timestamp_ms: int | None = None
    partition: int | None = None


@dataclass(frozen=True)
class Received:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...]
    timestamp_ms: int


def free_port_pair() -> int:
    """A port p such that p and p + 1 are free now (Kafka's listener and controller)."""
    return free_port_run(2)


def free_port_run(count: int) -> int:
    """A port p such that p … p + count - 1 are free now (a local cluster's nodes)."""
    return ports.free_port_run(count)


# Tests name a plaintext broker by its address; a secured one by its KafkaSettings.
Cluster = KafkaSettings | str


def settings_of(kafka: Cluster) -> KafkaSettings:
    return KafkaSettings(kafka) if isinstance(kafka, str) else kafka


def unique_topic(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def stack_from_environment() -> tuple[str, str] | None:
    """The stack named by CHAOSBUS_BOOTSTRAP/CHAOSBUS_REDIS, if both answer."""
    bootstrap = os.environ.get("CHAOSBUS_BOOTSTRAP")
    redis_url = os.environ.get("CHAOSBUS_REDIS")
    if not bootstrap or not redis_url:
        return None
    if await broker_answers(KafkaSettings(bootstrap)) and await redis_answers(redis_url):
        return bootstrap, redis_url
    return None


async def create_topics(kafka: Cluster, topics: Iterable[str], partitions: int) -> None:
    async with TopicAdmin(settings_of(kafka)) as admin:
        for topic in topics:
            await admin.create(topic, partitions)


async def produce(
    kafka: Cluster, topic: str, messages: Sequence[Message], *, max_request_size: int = 1048576
) -> None:
    producer = AIOKafkaProducer(
        **settings_of(kafka).client_options(),
        enable_idempotence=True,
        linger_ms=5,
        max_request_size=max_request_size,
    )
    await producer.start()
    try:
        futures = [
            await producer.send(
                topic,
                value=m.value,
                key=m.key,
                partition=m.partition,
                timestamp_ms=m.timestamp_ms,
                headers=list(m.headers),
            )
            for m in messages
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def end_offsets(kafka: Cluster, topic: str) -> dict[int, int]:
    async with standalone_consumer(settings_of(kafka)) as consumer:
        return await topic_end_offsets(consumer, topic)


async def poll_until(
    read: Callable[[], Awaitable[T]] | Callable[[], T],
    done: Callable[[T], bool],
    *,
    timeout_s: float,
    every_s: float = 0.2,
) -> T:
    """Read a state that no event announces until `done` or the time is up; returns the last
    read. `read` is a coroutine function (another process's progress on the broker) or a
    plain one (another task's counters, a log file another process writes)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        value = await _read(read)
        if done(value) or loop.time() >= deadline:
            return value
        await asyncio.sleep(every_s)


async def _read(read: Callable[[], Awaitable[T]] | Callable[[], T]) -> T:
    value = read()
    if inspect.isawaitable(value):
        return await value
    return value


async def wait_for_count(kafka: Cluster, topic: str, count: int, *, timeout_s: float) -> int:
    """Wait until a topic holds at least `count` records; returns how many it holds."""
    async with standalone_consumer(settings_of(kafka)) as consumer:

        async def total() -> int:
            return sum((await topic_end_offsets(consumer, topic)).values())

        return await poll_until(total, lambda n: n >= count, timeout_s=timeout_s)


async def wait_for_committed_count(
    kafka: Cluster, topic: str, count: int, *, timeout_s: float
) -> int:
    """Wait until `count` records are readable under read_committed; returns how many are.

    End offsets count transaction markers and aborted records, so with a transactional
    producer (exactly-once delivery) only reading the records can say it.
    """

    async def seen() -> int:
        # A topic the proxy has not created yet holds nothing.
        return len(await read_all(kafka, topic)) if await end_offsets(kafka, topic) else 0

    return await poll_until(seen, lambda n: n >= count, timeout_s=timeout_s, every_s=0.5)


async def read_all(kafka: Cluster, topic: str, *, timeout_s: float = 30) -> list[Received]:
    """Every record of a topic from the beginning up to its end offsets taken now."""
    async with standalone_consumer(
        settings_of(kafka), isolation_level="read_committed"
    ) as consumer:
        ends = {
            TopicPartition(topic, p): end
            for p, end in (await topic_end_offsets(consumer, topic)).items()
        }
        tps = list(ends)
        if not tps:
            return []  # not created yet: nothing to read
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        received: list[Received] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            if loop.time() > deadline:
                raise TimeoutError(f"reading {topic} did not reach its end offsets")
            batches = await consumer.getmany(timeout_ms=200, max_records=10_000)
            for tp, records in batches.items():
                received.extend(
                    Received(
                        tp.topic,
                        tp.partition,
                        r.offset,
                        r.key,
                        r.value,
                        tuple(r.headers),
                        r.timestamp,
                    )
                    for r in records
                    if r.offset < ends[tp]
                )
        return received


def ledger_of(received: Iterable[Received]) -> list[LedgerRecord]:
    """The decisions a ledger topic's records stand for (a run of passes as its records)."""
    return [record for r in received for record in decode_ledger(r.value or b"")]


async def wait_for_ledger(kafka: Cluster, topic: str, count: int, *, timeout_s: float) -> int:
    """Wait until a ledger topic holds at least `count` decisions, committed; returns how
    many it holds (a compact record stands for many, so its end offsets cannot say)."""

    async def seen() -> int:
        return len(ledger_of(await read_all(kafka, topic)))

    return await poll_until(seen, lambda n: n >= count, timeout_s=timeout_s)


async def committed_offsets(kafka: Cluster, group_id: str) -> dict[tuple[str, int], int]:
    """What a consumer group has committed, by (topic, partition); empty while unknown."""
    async with TopicAdmin(settings_of(kafka)) as admin:
        try:
            return await admin.committed(group_id)
        except KafkaError as exc:
            # A coordinator still loading is a normal state right after the broker starts.
            if exc.retriable:
                return {}
            raise


async def wait_for_committed(
    kafka: Cluster, group_id: str, expected: dict[tuple[str, int], int], *, timeout_s: float
) -> dict[tuple[str, int], int]:
    """Wait until the group's committed offsets are `expected`; returns the last read.

    A transaction's offsets become visible once the broker wrote its commit markers, a
    moment after the producer's commit returned: reading once right after can miss them.
    """
    return await poll_until(
        lambda: committed_offsets(kafka, group_id),
        lambda offsets: offsets == expected,
        timeout_s=timeout_s,
    )
