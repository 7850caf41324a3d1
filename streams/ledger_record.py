"""The ledger record: one per interposer decision, `pass` included.

This is a contract (ARCHITECTURE §4): monitors rebuild from these records exactly what the
interposer did to each source message. Records are JSON on the `chaosbus.ledger` topic, keyed
by the source message key so that one entity's decisions stay in one partition, in order.
Bump `LEDGER_SCHEMA_VERSION` on any incompatible change.
"""

from __future__ import annotations

import base64
import binascii
import json

from pydantic import BaseModel, ConfigDict, Field

LEDGER_TOPIC = "chaosbus.ledger"
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

    @property
    def key(self) -> bytes | None:
        return None if self.key_b64 is None else base64.b64decode(self.key_b64)

    @property
    def dropped(self) -> bool:
        return not self.emissions

    def to_bytes(self) -> bytes:
        return self.model_dump_json(exclude_none=False).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> LedgerRecord:
        return cls.model_validate_json(raw)


EmissionTuple = tuple[int, int, int | None, int | None, int | None]
"""(copy_number, planned_delay_ms, partition, offset, sent_at_ms), as on the wire."""


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
            }
            for copy_number, delay, out_partition, out_offset, sent_at in sorted(emissions)
        ],
        "decided_at_ms": decided_at_ms,
        "completed_at_ms": completed_at_ms,
    }
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


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
