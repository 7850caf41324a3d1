"""The value every part of the traffic package passes around: one recorded message."""

from __future__ import annotations

from typing import NamedTuple

Headers = tuple[tuple[str, bytes | None], ...]

UNKNOWN_PARTITION = -1  # a generated record: the replay partitions it by key


class TrafficRecord(NamedTuple):
    """A message as recorded: its bytes, its Kafka timestamp, where it was read.

    `offset` is the source offset (a generated record numbers itself from 0); it is kept for
    tracing a record back to its source, never used to place it on replay. A named tuple,
    not a frozen dataclass: it is built once per message on every path, and builds in half
    the time.
    """

    key: bytes | None
    value: bytes | None
    headers: Headers
    timestamp_ms: int
    partition: int = UNKNOWN_PARTITION
    offset: int = -1

    @property
    def size(self) -> int:
        """Bytes of key, value and headers: what the `--max-bytes` bound counts."""
        size = len(self.key or b"") + len(self.value or b"")
        for name, value in self.headers:
            size += len(name) + len(value or b"")
        return size
