"""A consumed Kafka record as the fault model sees it: one Record→Envelope, one event id.

Both delivery modes read through here, so an envelope's size (the byte bound of what is
held) and its event id mean the same whichever mode forwards it. Poison input is counted
here and forwarded as it is: tombstones (null value), keyless messages, headers without a
value, values over 1 MiB.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from chaosbus.injectors.envelope import Envelope, Headers, SourceCoordinates

LARGE_VALUE_BYTES = 1024 * 1024
# Headers are small and left out of the held-bytes estimate; this covers them and the tuple.
ENVELOPE_OVERHEAD = 64


def envelope_of(record: Any, counts: Counter[str]) -> Envelope:
    """The envelope of one aiokafka ConsumerRecord, counting what is unusual about it."""
    headers: Headers = tuple(record.headers)
    value = record.value
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
