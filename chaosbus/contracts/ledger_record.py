"""The ledger record: one per interposer decision, `pass` included.

This is a contract (ARCHITECTURE §4): monitors rebuild from these records exactly what the
interposer did to each source message. Records are JSON on the `chaosbus.ledger` topic, keyed
by route and source partition so that one source partition's decisions stay in one ledger
partition, in order (decision 0140). Bump `LEDGER_SCHEMA_VERSION` on any incompatible change;
optional fields added later (`fault_name`, `source_timestamp_ms`, `trace_id`) default to
`None`, so older records still read.

A run of passes is written as one compact record (`encode_pass_run`, `PassRun`); readers
never see the difference: `decode_ledger` turns any ledger payload into the `LedgerRecord`s
it stands for, and every reader of the ledger goes through it.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from itertools import chain, compress, pairwise, repeat
from operator import ne
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

# One of chaosbus's own topics, which no route may read or write (injectors.protection).
from chaosbus.injectors.protection import LEDGER_TOPIC as LEDGER_TOPIC

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


# ---- runs of passes ----------------------------------------------------------------------

PASS_RUN = "passes"
# A compact record begins with its kind (`encode_pass_run` writes it first), so a reader
# tells the two shapes apart without parsing twice.
_RUN_PREFIX = b'{"kind":"passes",'
T = TypeVar("T")


def encode_pass_run(
    *,
    run_id: str,
    route: str,
    topic: str,
    partition: int,
    offset: int,
    out_partition: int,
    out_offset: int,
    event_ids: Sequence[str],
    keys: Sequence[bytes | None],
    reasons: Sequence[str | None],
    fault_names: Sequence[str | None],
    planned_delays_ms: Sequence[int],
    variants: Sequence[str | None],
    decided_at_ms: Sequence[int],
    sent_at_ms: Sequence[int],
    completed_at_ms: Sequence[int],
    source_timestamps_ms: Sequence[int | None],
    trace_ids: Sequence[str | None],
) -> bytes:
    """One record for `len(event_ids)` passes of consecutive source offsets from `offset`,
    each sent once (copy 0) to `out_partition` at consecutive offsets from `out_offset`.

    Entry i is what `encode_record` would write for source offset `offset + i`. Every other
    field is a column: one value when all entries share it; `{"repeats": [[value, times],
    …]}` when runs of equal values make it at most a quarter as long (send times, source
    timestamps of one producer batch); else a list of one value per entry. An event id
    equal to "topic:partition:offset" (the coordinates) is written as null.
    """
    prefix = f"{topic}:{partition}:"
    ids = [
        None if event_id == prefix + str(at) else event_id
        for at, event_id in enumerate(event_ids, offset)
    ]
    document = {
        "kind": PASS_RUN,
        "v": LEDGER_SCHEMA_VERSION,
        "run_id": run_id,
        "route": route,
        "topic": topic,
        "partition": partition,
        "offset": offset,
        "count": len(ids),
        "out_partition": out_partition,
        "out_offset": out_offset,
        "event_id": _column(ids),
        "key_b64": _column([encode_key(key) for key in keys]),
        "reason": _column(reasons),
        "fault_name": _column(fault_names),
        "planned_delay_ms": _column(planned_delays_ms),
        "variant": _column(variants),
        "decided_at_ms": _column(decided_at_ms),
        "sent_at_ms": _column(sent_at_ms),
        "completed_at_ms": _column(completed_at_ms),
        "source_timestamp_ms": _column(source_timestamps_ms),
        "trace_id": _column(trace_ids),
    }
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def _column(values: Sequence[T]) -> T | list[T] | dict[str, list[list[T | int]]]:
    first, n = values[0], len(values)
    if values.count(first) == n:
        return first
    # Where a value differs from the one before, found in C (map, compress): a Python loop
    # over every entry would cost more than the rest of the encoding.
    starts = [0, *compress(range(1, n), map(ne, values, values[1:])), n]
    if 4 * (len(starts) - 1) > n:
        return list(values)
    return {"repeats": [[values[at], end - at] for at, end in pairwise(starts)]}


class Repeats(BaseModel, Generic[T]):
    """A column as runs of equal values: (value, how many entries in a row)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    repeats: list[tuple[T, Annotated[int, Field(ge=1)]]]

    def expand(self) -> list[T]:
        return list(chain.from_iterable(repeat(value, times) for value, times in self.repeats))


NonNegative = Annotated[int, Field(ge=0)]


class PassRun(BaseModel):
    """A compact record of consecutive passes, as `encode_pass_run` writes it (a reader's
    view: `records()` gives the individual records, field for field)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["passes"]
    v: int
    run_id: str
    route: str
    topic: str
    partition: int
    offset: int
    count: int = Field(ge=1)
    out_partition: int
    out_offset: int
    event_id: str | list[str | None] | Repeats[str | None] | None
    key_b64: str | list[str | None] | Repeats[str | None] | None
    reason: str | list[str | None] | Repeats[str | None] | None
    fault_name: str | list[str | None] | Repeats[str | None] | None
    planned_delay_ms: NonNegative | list[NonNegative] | Repeats[NonNegative]
    variant: str | list[str | None] | Repeats[str | None] | None
    decided_at_ms: int | list[int] | Repeats[int]
    sent_at_ms: int | list[int] | Repeats[int]
    completed_at_ms: int | list[int] | Repeats[int]
    source_timestamp_ms: int | list[int | None] | Repeats[int | None] | None
    trace_id: str | list[str | None] | Repeats[str | None] | None

    @model_validator(mode="after")
    def _columns_have_one_value_per_entry(self) -> PassRun:
        for name in _COLUMNS:
            value = getattr(self, name)
            if isinstance(value, Repeats):
                length = sum(times for _, times in value.repeats)
            elif isinstance(value, list):
                length = len(value)
            else:
                continue
            if length != self.count:
                raise ValueError(f"{name}: {length} values for {self.count} entries")
        return self

    def records(self) -> list[LedgerRecord]:
        # Validated by pydantic's core in one call: `model_construct` per entry, which skips
        # validation, costs several times more in Python.
        n = self.count
        columns = [_expand(getattr(self, name), n) for name in _COLUMNS]
        prefix = f"{self.topic}:{self.partition}:"
        shared = {
            "v": self.v,
            "run_id": self.run_id,
            "route": self.route,
            "topic": self.topic,
            "partition": self.partition,
            "fault": "pass",
        }
        rows = []
        for i, row in enumerate(zip(*columns, strict=True)):
            event_id, key, reason, name, delay, variant, decided, sent, done, ts, trace = row
            offset = self.offset + i
            copy = {
                "copy_number": 0,
                "planned_delay_ms": delay,
                "partition": self.out_partition,
                "offset": self.out_offset + i,
                "sent_at_ms": sent,
                "variant": variant,
            }
            rows.append(
                {
                    **shared,
                    "offset": offset,
                    "event_id": prefix + str(offset) if event_id is None else event_id,
                    "key_b64": key,
                    "reason": reason,
                    "emissions": (copy,),
                    "decided_at_ms": decided,
                    "completed_at_ms": done,
                    "fault_name": name,
                    "source_timestamp_ms": ts,
                    "trace_id": trace,
                }
            )
        return _RECORDS.validate_python(rows)


# In the order `records()` unpacks them.
_COLUMNS = (
    "event_id",
    "key_b64",
    "reason",
    "fault_name",
    "planned_delay_ms",
    "variant",
    "decided_at_ms",
    "sent_at_ms",
    "completed_at_ms",
    "source_timestamp_ms",
    "trace_id",
)


def _expand(column: object, n: int) -> list[object]:
    if isinstance(column, list):
        return column
    if isinstance(column, Repeats):
        return column.expand()
    return [column] * n


_RECORDS = TypeAdapter(list[LedgerRecord])


def decode_ledger(payload: bytes) -> list[LedgerRecord]:
    """The decisions one ledger payload stands for: one record, or a run of passes.

    Every reader of the ledger decodes through here. Raises ValueError (pydantic's
    ValidationError) on a payload that is neither.
    """
    if payload.startswith(_RUN_PREFIX):
        return PassRun.model_validate_json(payload).records()
    return [LedgerRecord.model_validate_json(payload)]
