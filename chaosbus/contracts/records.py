"""A consumed Kafka record as the fault model sees it: the one Record→Envelope, one event id.

Every reader of a topic goes through `envelope_of`: the route loop (both delivery modes), the
runner's live readers (`runner.readers`) and the monitors' window reads
(`monitors.probes.kafka_reader`). So an envelope's size (the byte bound of what is held) and
its event id mean the same wherever it was read. Poison input is counted here, when the
reader keeps counts, and passed on as it is: tombstones (null value), keyless messages,
headers without a value, values over 1 MiB.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Protocol

from chaosbus.injectors.envelope import Envelope, Headers, SourceCoordinates

LARGE_VALUE_BYTES = 1024 * 1024
# Headers are small and left out of the held-bytes estimate; this covers them and the tuple.
ENVELOPE_OVERHEAD = 64
POISON = ("tombstone", "large_value", "keyless", "null_header")


class ConsumedRecord(Protocol):
    """What a record read from Kafka offers: aiokafka's ConsumerRecord, or the in-memory
    transport's record in unit tests."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def timestamp(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...
    @property
    def headers(self) -> Sequence[tuple[str, bytes | None]]: ...
    @property
    def serialized_key_size(self) -> int: ...
    @property
    def serialized_value_size(self) -> int: ...


def envelope_of(record: ConsumedRecord, counts: Counter[str] | None = None) -> Envelope:
    """The envelope of one consumed record; `counts` (if given) counts what is unusual
    about it under the names of `POISON`."""
    headers: Headers = tuple(record.headers)
    value = record.value
    if counts is not None:
        if value is None:
            counts["tombstone"] += 1
        elif len(value) > LARGE_VALUE_BYTES:
            counts["large_value"] += 1
        if record.key is None:
            counts["keyless"] += 1
        if headers and any(v is None for _, v in headers):
            counts["null_header"] += 1
    return Envelope(
        key=record.key,
        value=value,
        headers=headers,
        timestamp_ms=record.timestamp,
        source=SourceCoordinates(record.topic, record.partition, record.offset),
        size=record.serialized_key_size + record.serialized_value_size + ENVELOPE_OVERHEAD,
    )


def event_id(wanted: str | None, envelope: Envelope) -> str:
    """The `wanted` header's value, else the source coordinates (a null header falls back)."""
    if wanted is not None:
        for name, value in envelope.headers:
            if name == wanted and value is not None:
                return value.decode("utf-8", "replace")
    source = envelope.source
    return f"{source.topic}:{source.partition}:{source.offset}"
