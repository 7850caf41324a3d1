"""Producing to one topic-partition as whole producer batches, one future per batch.

The per-message `producer.send` path costs a future, a partition lookup and a callback for
every record, which profiling showed as a large share of the interposer's time. Here the
records of one turn for one partition go into `BatchBuilder`s, each submitted with
`send_batch`; its future resolves to the batch's base offset, and the i-th record of a batch
lands at base + i. Order within the partition is the order of `items`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from aiokafka import AIOKafkaProducer

T = TypeVar("T")
Record = tuple[bytes | None, bytes | None, int | None, list[tuple[str, bytes]]]
"""(key, value, timestamp in ms, headers) of one record."""

Done = Callable[[Sequence[T], int | None], None]
"""Called once per batch: its items and base offset, or None when the batch failed."""


async def send_in_batches(
    producer: AIOKafkaProducer,
    topic: str,
    partition: int,
    items: Sequence[T],
    to_record: Callable[[T], Record],
    done: Done[T],
) -> None:
    batch = producer.create_batch()
    members: list[T] = []
    for item in items:
        key, value, timestamp_ms, headers = to_record(item)
        if batch.append(timestamp=timestamp_ms, key=key, value=value, headers=headers) is None:
            await _submit(producer, batch, topic, partition, members, done)
            batch = producer.create_batch()
            members = []
            # An empty batch takes any first record, however large.
            batch.append(timestamp=timestamp_ms, key=key, value=value, headers=headers)
        members.append(item)
    if members:
        await _submit(producer, batch, topic, partition, members, done)


async def _submit(
    producer: AIOKafkaProducer,
    batch: Any,
    topic: str,
    partition: int,
    members: list[T],
    done: Done[T],
) -> None:
    future = await producer.send_batch(batch, topic, partition=partition)

    def resolved(result: asyncio.Future[Any]) -> None:
        failed = result.cancelled() or result.exception() is not None
        done(members, None if failed else result.result().offset)

    future.add_done_callback(resolved)
