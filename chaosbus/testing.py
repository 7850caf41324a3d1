"""Helpers for tests against the real local stack, public so users' own tests can use them.

Nothing here mocks a broker: these produce to and read from real topics.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError

from chaosbus.local.kafka_node import broker_answers
from chaosbus.local.redis_node import redis_answers
from streams.consumers import standalone_consumer, topic_end_offsets
from streams.topics import TopicAdmin


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
    for _ in range(100):
        with closing(socket.socket()) as first:
            first.bind(("127.0.0.1", 0))
            port = int(first.getsockname()[1])
        if port >= 65535:
            continue
        with closing(socket.socket()) as second:
            try:
                second.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no two adjacent free ports on loopback")


def unique_topic(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def stack_from_environment() -> tuple[str, str] | None:
    """The stack named by CHAOSBUS_BOOTSTRAP/CHAOSBUS_REDIS, if both answer."""
    bootstrap = os.environ.get("CHAOSBUS_BOOTSTRAP")
    redis_url = os.environ.get("CHAOSBUS_REDIS")
    if not bootstrap or not redis_url:
        return None
    if await broker_answers(bootstrap) and await redis_answers(redis_url):
        return bootstrap, redis_url
    return None


async def create_topics(bootstrap: str, topics: Iterable[str], partitions: int) -> None:
    async with TopicAdmin(bootstrap) as admin:
        for topic in topics:
            await admin.create(topic, partitions)


async def produce(
    bootstrap: str, topic: str, messages: Sequence[Message], *, max_request_size: int = 1048576
) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
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


async def end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    async with standalone_consumer(bootstrap) as consumer:
        return await topic_end_offsets(consumer, topic)


async def wait_for_count(bootstrap: str, topic: str, count: int, *, timeout_s: float) -> int:
    """Wait until a topic holds at least `count` records; returns how many it holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    async with standalone_consumer(bootstrap) as consumer:
        while True:
            total = sum((await topic_end_offsets(consumer, topic)).values())
            if total >= count or loop.time() >= deadline:
                return total
            # Polling a foreign process's progress: there is no event to await.
            await asyncio.sleep(0.2)


async def read_all(bootstrap: str, topic: str, *, timeout_s: float = 30) -> list[Received]:
    """Every record of a topic from the beginning up to its end offsets taken now."""
    async with standalone_consumer(bootstrap, isolation_level="read_committed") as consumer:
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


async def committed_offsets(bootstrap: str, group_id: str) -> dict[tuple[str, int], int]:
    """What a consumer group has committed, by (topic, partition); empty while unknown."""
    async with TopicAdmin(bootstrap) as admin:
        try:
            return await admin.committed(group_id)
        except KafkaError as exc:
            # A coordinator still loading is a normal state right after the broker starts.
            if exc.retriable:
                return {}
            raise
