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
from typing import TypeVar

from chaosbus.streams.transport import BatchBuilder, Producer, RecordMetadata

T = TypeVar("T")
Record = tuple[bytes | None, bytes | None, int | None, list[tuple[str, bytes | None]]]
"""(key, value, timestamp in ms, headers) of one record."""

Done = Callable[[Sequence[T], int | None, BaseException | None], None]
"""Called once per batch: its items and base offset, or None and the error when it failed."""

# A record batch's fixed header; each record adds its varint lengths and attributes.
BATCH_HEADER_BYTES = 61
RECORD_OVERHEAD_BYTES = 40


def record_size(record: Record) -> int:
    """What one record adds to a batch, about (kept generous: the broker has the last word)."""
    key, value, _, headers = record
    size = RECORD_OVERHEAD_BYTES + len(key or b"") + len(value or b"")
    for name, header in headers:
        size += len(name) + len(header or b"") + 10
    return size


async def send_in_batches(
    producer: Producer,
    topic: str,
    partition: int,
    items: Sequence[T],
    to_record: Callable[[T], Record],
    done: Done[T],
    *,
    max_bytes: int | None = None,
) -> None:
    """Send `items` in order; `max_bytes` (the destination's limit) caps each batch's size,
    so one topic's `max.message.bytes` never refuses a batch of records it would each take."""
    batch = producer.create_batch()
    members: list[T] = []
    size = BATCH_HEADER_BYTES
    for item in items:
        record = to_record(item)
        key, value, timestamp_ms, headers = record
        grown = size + record_size(record) if max_bytes is not None else 0
        full = members and max_bytes is not None and grown > max_bytes
        if (
            full
            or batch.append(timestamp=timestamp_ms, key=key, value=value, headers=headers) is None
        ):
            await _submit(producer, batch, topic, partition, members, done)
            batch = producer.create_batch()
            members = []
            # An empty batch takes any first record, however large.
            batch.append(timestamp=timestamp_ms, key=key, value=value, headers=headers)
            grown = BATCH_HEADER_BYTES + record_size(record) if max_bytes is not None else 0
        size = grown
        members.append(item)
    if members:
        await _submit(producer, batch, topic, partition, members, done)


async def _submit(
    producer: Producer,
    batch: BatchBuilder,
    topic: str,
    partition: int,
    members: list[T],
    done: Done[T],
) -> None:
    future = await producer.send_batch(batch, topic, partition=partition)

    def resolved(result: asyncio.Future[RecordMetadata]) -> None:
        if result.cancelled():
            done(members, None, asyncio.CancelledError())
        elif (error := result.exception()) is not None:
            done(members, None, error)
        else:
            done(members, result.result().offset, None)

    future.add_done_callback(resolved)
