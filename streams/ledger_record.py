"""The ledger record: one per interposer decision, `pass` included.

This is a contract (ARCHITECTURE §4): monitors rebuild from these records exactly what the
interposer did to each source message. Records are JSON on the `chaosbus.ledger` topic, keyed
by the source message key so that one entity's decisions stay in one partition, in order.
Bump `LEDGER_SCHEMA_VERSION` on any incompatible change; optional fields added later
(`fault_name`, `source_timestamp_ms`, `trace_id`) default to `None`, so older records still
read.
"""

from __future__ import annotations

import base64
import binascii
import json

from pydantic import BaseModel, ConfigDict, Field

# One of chaosbus's own topics, which no route may read or write (injectors.protection).
from injectors.protection import LEDGER_TOPIC as LEDGER_TOPIC

LEDGER_SCHEMA_VERSION = 1
# The fault of a record whose copy the destination refused and the dead-letter topic took.
UNDELIVERABLE = "undeliverable"


class LedgerEmission(BaseModel):
    """One message produced for a source message: the original (copy 0) or a duplicate."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    copy_number: int = Field(ge=0)
    planned_delay_ms: int = Field(ge=0)
    partition: int | None = None
    offset: int | None = None
    sent_at_ms: int | None = None
    # How the copy differs from its source ("corrupt:truncate", "schema_drift:rename:status",
    # "replay"), as the fault named it; None for a byte-identical copy and in older records.
    variant: str | None = None


class LedgerRecord(BaseModel):
    """What was decided for one source message and what was actually produced for it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    v: int = LEDGER_SCHEMA_VERSION
    run_id: str
    route: str
    topic: str
    partition: int
    offset: int
    event_id: str
    # Keys are bytes on the wire; they are kept as base64 so any key survives JSON.
    key_b64: str | None
    fault: str
    reason: str | None = None
    emissions: tuple[LedgerEmission, ...] = ()
    decided_at_ms: int
    completed_at_ms: int
    # Added after schema 1 shipped, so optional: the fault's declared name (`faults[i]`
    # when it has none; None for a pass), the source message's timestamp (the base of an
    # emission's actual delay) and the W3C trace id the decision belongs to.
    fault_name: str | None = None
    source_timestamp_ms: int | None = None
    trace_id: str | None = None

    @property
    def key(self) -> bytes | None:
        return None if self.key_b64 is None else base64.b64decode(self.key_b64)

    @property
    def dropped(self) -> bool:
        return not self.emissions

    def actual_delay_ms(self, emission: LedgerEmission) -> int | None:
        """How long after the source timestamp the copy was produced, when both are known."""
        if emission.sent_at_ms is None or self.source_timestamp_ms is None:
            return None
        return emission.sent_at_ms - self.source_timestamp_ms

    def to_bytes(self) -> bytes:
        return self.model_dump_json(exclude_none=False).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> LedgerRecord:
        return cls.model_validate_json(raw)


EmissionTuple = tuple[int, int, int | None, int | None, int | None, str | None]
"""(copy_number, planned_delay_ms, partition, offset, sent_at_ms, variant), as on the wire."""


def encode_record(
    *,
    run_id: str,
    route: str,
    topic: str,
    partition: int,
    offset: int,
    event_id: str,
    key: bytes | None,
    fault: str,
    reason: str | None,
    emissions: list[EmissionTuple],
    decided_at_ms: int,
    completed_at_ms: int,
    fault_name: str | None = None,
    source_timestamp_ms: int | None = None,
    trace_id: str | None = None,
) -> bytes:
    """The JSON `LedgerRecord.to_bytes()` writes, without building the model.

    The interposer writes one record per message; validating a model there cost as much as
    forwarding the message. `LedgerRecord` stays the contract for readers, and a unit test
    pins that both encodings are byte-identical.
    """
    document = {
        "v": LEDGER_SCHEMA_VERSION,
        "run_id": run_id,
        "route": route,
        "topic": topic,
        "partition": partition,
        "offset": offset,
        "event_id": event_id,
        "key_b64": encode_key(key),
        "fault": fault,
        "reason": reason,
        "emissions": [
            {
                "copy_number": copy_number,
                "planned_delay_ms": delay,
                "partition": out_partition,
                "offset": out_offset,
                "sent_at_ms": sent_at,
                "variant": variant,
            }
            # Copy numbers are unique in a record, so the sort never compares variants.
            for copy_number, delay, out_partition, out_offset, sent_at, variant in sorted(
                emissions, key=_copy_number
            )
        ],
        "decided_at_ms": decided_at_ms,
        "completed_at_ms": completed_at_ms,
        "fault_name": fault_name,
        "source_timestamp_ms": source_timestamp_ms,
        "trace_id": trace_id,
    }
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def _copy_number(emission: EmissionTuple) -> int:
    return emission[0]


def encode_key(key: bytes | None) -> str | None:
    return None if key is None else base64.b64encode(key).decode("ascii")


def decode_key(key_b64: str | None) -> bytes | None:
    if key_b64 is None:
        return None
    try:
        return base64.b64decode(key_b64, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"ledger key is not base64: {key_b64!r}") from exc


def route_name(source_topic: str, destination_topic: str) -> str:
    return f"{source_topic}->{destination_topic}"
