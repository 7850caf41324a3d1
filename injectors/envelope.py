"""Value types that flow through the fault model.

An `Envelope` is one source message as the interposer read it; an `Emission` is one message
the interposer must produce, at a logical time, as a numbered copy of its source. These types
are the whole vocabulary between `injectors` (pure) and `streams` (I/O): nothing here knows
about Kafka clients, asyncio or clocks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Kafka allows a header without a value (null): poison input the interposer must forward.
Headers = tuple[tuple[str, bytes | None], ...]


@dataclass(frozen=True, slots=True)
class SourceCoordinates:
    """Where a message was read: the identity the ledger and the RNG derivation key on."""

    topic: str
    partition: int
    offset: int


@dataclass(frozen=True, slots=True)
class Envelope:
    """One source message, byte for byte, with where it came from."""

    key: bytes | None
    value: bytes | None
    headers: Headers
    timestamp_ms: int
    source: SourceCoordinates
    # Bytes the message occupies while held; counted by the scheduler's memory bound.
    size: int = field(default=0, compare=False)

    @property
    def approx_size(self) -> int:
        if self.size:
            return self.size
        headers = sum(len(name) + len(value or b"") for name, value in self.headers)
        return len(self.key or b"") + len(self.value or b"") + headers + 64


@dataclass(frozen=True, slots=True)
class Emission:
    """A message to produce downstream.

    `copy` is 0 for the original delivery and 1, 2, … for injected duplicates.
    `release_at_ms` is the logical time at which the scheduler may send it; it is never
    earlier than the decision time. `planned_delay_ms` is what the fault added, for the
    ledger and the delay histogram.
    """

    envelope: Envelope
    copy: int
    release_at_ms: int
    planned_delay_ms: int = 0
    # How this copy differs from its source, when a fault changed it ("corrupt:truncate",
    # "schema_drift:rename:status"); None for a byte-identical copy. The ledger carries it,
    # so the monitors know which deliveries the service should have refused.
    variant: str | None = None
