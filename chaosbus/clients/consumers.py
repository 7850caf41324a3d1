"""Group-less consumers for reading topics by offset (tests, monitors, end-offset probes)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaConnectionError

from chaosbus.clients.connection import KafkaSettings, why_unreachable
from chaosbus.clients.quiet import quiet_aiokafka


class KafkaConsumer(AIOKafkaConsumer):  # type: ignore[misc]  # aiokafka ships no types
    """aiokafka's consumer with a `stop()` that ends cleanly after a broker died; every
    consumer chaosbus builds is one, so no caller has to remember the workaround.

    aiokafka 0.14 can fail `stop()` with its own fetch task's cancellation: after a fetch to
    a broker that just died fails, the fetch task sleeps a retry backoff outside its
    cancellation guard, and `Fetcher.close()` awaits the task it cancelled unguarded (seen
    with a node of a three-node cluster killed, in a route's consumer and in the readers).
    Only a cancellation of the caller itself propagates; the client's connections are
    closed either way.
    """

    async def stop(self) -> None:
        # start() creates a background task; if stop() cancels it before its first step,
        # aiokafka 0.14 re-raises CancelledError from stop(). One loop turn lets it begin.
        await asyncio.sleep(0)
        try:
            await super().stop()
        except asyncio.CancelledError:
            if cancelled_by_caller():
                raise
            await self._client.close()


@asynccontextmanager
async def standalone_consumer(kafka: KafkaSettings, **options: Any) -> AsyncIterator[KafkaConsumer]:
    consumer = KafkaConsumer(**kafka.client_options(), enable_auto_commit=False, **options)
    try:
        # A refused connection is explained in one line below; aiokafka's own lines would bury it.
        with quiet_aiokafka():
            await consumer.start()
    except KafkaConnectionError as exc:
        await consumer.stop()
        raise await why_unreachable(kafka) from exc
    try:
        yield consumer
    finally:
        await consumer.stop()


def cancelled_by_caller() -> bool:
    """Whether a CancelledError being handled is the running task's own cancellation.

    aiokafka can raise CancelledError from a task or future of its own (a fetch task it
    cancelled, a send in flight to a broker that died). Only a cancellation of the caller
    (`Task.cancelling()` above 0) must propagate; any other is a client failure, retriable
    like a KafkaError.
    """
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


async def topic_end_offsets(consumer: AIOKafkaConsumer, topic: str) -> dict[int, int]:
    partitions = consumer.partitions_for_topic(topic) or set()
    if not partitions:
        await consumer._client.force_metadata_update()
        partitions = consumer.partitions_for_topic(topic) or set()
    tps = [TopicPartition(topic, p) for p in sorted(partitions)]
    ends = await consumer.end_offsets(tps) if tps else {}
    return {tp.partition: offset for tp, offset in ends.items()}
