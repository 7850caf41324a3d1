"""Declared extractors: how to read an event id, entity, version, delete and amount.

Declared in the experiment file under `monitor.extract`, e.g.::

    extract:
      event_id: {json: "$.event_id"}     # or {header: x-event-id}; omitted: topic:partition:offset
      entity: record_key                 # or {json: "$.order.id"}
      version: {json: "$.version"}       # or {header: x-version}; omitted: the source offset
      delete: tombstone                  # or {path: "$.status", equals: "deleted"}; omitted: none
      amount: {json: "$.amount"}         # the counter model's field

and beside it, per check, which events the check judges at all::

    where: {path: "$.status", equals: paid}     # or a list: every condition must hold

`where` and a JSON `delete` are `injectors.base.PathCondition`s (`equals` or `exists`),
judged by the code that judges a fault's `match.json`: one notion of "this field has this
value" for faults and verdicts alike.

`compile_extractors` turns the config into one callable that parses the payload at most
once per message. A message it cannot read is never an exception: the extractor that
failed is counted in `Extractor.unparsable` and the message is skipped, because judging
an event whose identity or version is a guess would produce false verdicts.

What a missing field means (docs/experiments.md says the same to users):

| field      | absent or `null`                        | present but unreadable        |
| ---------- | --------------------------------------- | ----------------------------- |
| `where`    | `equals` does not hold; `exists: false` holds | (no such case: any value compares) |
| `event_id` | unparsable (`event_id`)                 | an object or list: unparsable |
| `entity`   | unparsable (`entity`)                   | an object or list: unparsable |
| `version`  | unparsable (`version`)                  | not a number: unparsable      |
| `amount`   | judged, adds nothing (`without_amount`) | not a finite number: unparsable |

A message outside `where` is not the check's event: it is neither judged nor unparsable,
only counted (`outside_where`), and its other fields are not read. A tombstone has no
payload to select on: it is inside `where` when the check's deletes are tombstones, outside
otherwise.

A tombstone (null value) has no payload to read, so when deletes are tombstones its JSON
event id falls back to the coordinates and its JSON version to "outranks all before it".
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chaosbus.injectors.base import PathCondition, check_json_path
from chaosbus.injectors.envelope import Envelope
from chaosbus.injectors.limits import MAX_LIST, Pattern
from chaosbus.injectors.match import path_holds
from chaosbus.monitors.history import Number, SourceEvent, coordinates_id

EXTRACTOR_NAMES = ("payload", "event_id", "entity", "version", "delete", "amount")


class _Frozen(BaseModel):
    # Read from experiment files: finite numbers only (`equals: .nan` never matches).
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class JsonField(_Frozen):
    """A value at a dotted JSON path: `$.order.id`; a digit segment indexes a list."""

    # `json` is the documented key but would shadow BaseModel.json, hence the alias.
    model_config = ConfigDict(populate_by_name=True)  # merged with _Frozen's

    json_path: Pattern = Field(alias="json", description="A path: `$.` then dotted keys.")

    @field_validator("json_path")
    @classmethod
    def _valid_path(cls, value: str) -> str:
        return check_json_path(value)


class HeaderField(_Frozen):
    """A Kafka header, decoded as UTF-8."""

    header: Pattern


# The delete marker's earlier name; the same model as `where`.
JsonEquals = PathCondition

# A check's selection: one condition, or several that must all hold.
Where = (
    PathCondition | Annotated[tuple[PathCondition, ...], Field(min_length=1, max_length=MAX_LIST)]
)


def where_conditions(where: Where | None) -> tuple[PathCondition, ...]:
    """`where` as the tuple of conditions that must all hold (none: every event)."""
    if where is None:
        return ()
    return (where,) if isinstance(where, PathCondition) else where


class ExtractorConfig(_Frozen):
    """What the monitors read from each source message."""

    event_id: JsonField | HeaderField | None = Field(
        default=None,
        description="The event's id; absent: topic:partition:offset.",
        examples=[{"json": "$.event_id"}, {"header": "event-id"}],
    )
    entity: Literal["record_key"] | JsonField = Field(
        default="record_key", description="The entity (unit) the event belongs to."
    )
    version: JsonField | HeaderField | None = Field(
        default=None, description="The entity's version (model entity); absent: the offset."
    )
    delete: Literal["tombstone"] | PathCondition | None = Field(
        default=None,
        description="Which events delete their entity: tombstones, or a condition.",
        examples=["tombstone", {"path": "$.type", "equals": "cancelled"}],
    )
    amount: JsonField | None = Field(
        default=None,
        description="What a counter adds; absent or null on an event: it adds nothing.",
        examples=[{"json": "$.amount"}],
    )


class _Missing:
    pass


MISSING: Any = _Missing()
Getter = Callable[[Any], Any]


def json_getter(path: str) -> Getter:
    """A callable reading `path` from a parsed document, or `MISSING`."""
    steps = [int(p) if p.isdigit() else p for p in path[2:].split(".")] if path != "$" else []

    def get(doc: Any) -> Any:
        for step in steps:
            try:
                doc = doc[step]
            except (KeyError, IndexError, TypeError):
                return MISSING
        return doc

    return get


def to_number(raw: Any) -> Number | None:
    """A version or amount as a number; `None` when it is not one (bools are not, nor are
    NaN and the infinities: a NaN never compares equal, so it would read as divergence)."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        return raw if math.isfinite(raw) else None
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    if isinstance(raw, str):
        try:
            return int(raw)
        except ValueError:
            try:
                number = float(raw)
            except ValueError:
                return None
            return number if math.isfinite(number) else None
    return None


def _header(envelope: Envelope, name: str) -> str | None:
    for key, value in envelope.headers:
        if key == name and value is not None:
            return value.decode("utf-8", "replace")
    return None


class Extractor:
    """Compiled extractors; call it on an envelope, read the counts afterwards:
    `unparsable` (by the extractor that failed), `outside_where` (not the check's events)
    and `without_amount` (judged events that add nothing)."""

    def __init__(self, config: ExtractorConfig, where: Where | None = None) -> None:
        self.config = config
        self.where = where_conditions(where)
        self.unparsable: Counter[str] = Counter()
        self.outside_where = 0
        self.without_amount = 0
        self._id_json = _getter(config.event_id)
        self._entity_json = _getter(config.entity)
        self._version_json = _getter(config.version)
        self._amount_json = _getter(config.amount)
        self._delete_marker = config.delete if isinstance(config.delete, PathCondition) else None
        self._needs_json = bool(self.where) or any(
            g is not None
            for g in (
                self._id_json,
                self._entity_json,
                self._version_json,
                self._amount_json,
                self._delete_marker,
            )
        )

    def __call__(self, envelope: Envelope) -> SourceEvent | None:
        tombstone = envelope.value is None
        doc: Any = MISSING
        if self._needs_json and not tombstone:
            try:
                doc = json.loads(envelope.value or b"")
            except (ValueError, UnicodeDecodeError):
                self.unparsable["payload"] += 1
                return None
        if self.where and not self._selected(doc, tombstone):
            self.outside_where += 1
            return None
        is_delete = self._is_delete(doc, tombstone)
        coords = (envelope.source.topic, envelope.source.partition, envelope.source.offset)
        event_id = self._event_id(envelope, doc, coords, is_delete and tombstone)
        if event_id is None:
            return None  # counted once, under the first extractor that failed
        entity = self._entity(envelope, doc)
        if entity is None:
            return None
        version = self._version(envelope, doc, coords[2], is_delete and tombstone)
        if version is MISSING:
            return None
        amount = self._amount(doc, tombstone)
        if amount is MISSING:
            return None
        return SourceEvent(
            coords, event_id, entity, version, is_delete, amount, envelope.timestamp_ms
        )

    def _fail(self, name: str) -> None:
        self.unparsable[name] += 1

    def _selected(self, doc: Any, tombstone: bool) -> bool:
        if tombstone:
            # No payload to select on: a tombstone is the check's when its deletes are.
            return self.config.delete == "tombstone"
        return all(path_holds(doc, condition) for condition in self.where)

    def _is_delete(self, doc: Any, tombstone: bool) -> bool:
        if self.config.delete == "tombstone":
            return tombstone
        if self._delete_marker is None or tombstone:
            return False
        # A payload without the marker field is simply not a delete (`equals` fails on it).
        return path_holds(doc, self._delete_marker)

    def _event_id(
        self, env: Envelope, doc: Any, coords: tuple[str, int, int], bare_delete: bool
    ) -> str | None:
        cfg = self.config.event_id
        if cfg is None or (bare_delete and self._id_json is not None):
            return coordinates_id(coords)
        raw = (
            _header(env, cfg.header) if isinstance(cfg, HeaderField) else _read(self._id_json, doc)
        )
        if raw is None or raw is MISSING or isinstance(raw, dict | list):
            self._fail("event_id")
            return None
        return str(raw)

    def _entity(self, env: Envelope, doc: Any) -> str | None:
        if self._entity_json is None:
            if env.key is None:
                self._fail("entity")
                return None
            return env.key.decode("utf-8", "backslashreplace")
        raw = _read(self._entity_json, doc)
        if raw is None or raw is MISSING or isinstance(raw, dict | list):
            self._fail("entity")
            return None
        return str(raw)

    def _version(self, env: Envelope, doc: Any, offset: int, bare_delete: bool) -> Any:
        cfg = self.config.version
        if cfg is None:
            return offset
        if bare_delete and self._version_json is not None:
            return None
        raw = (
            _header(env, cfg.header)
            if isinstance(cfg, HeaderField)
            else _read(self._version_json, doc)
        )
        number = None if raw is MISSING else to_number(raw)
        if number is None:
            self._fail("version")
            return MISSING
        return number

    def _amount(self, doc: Any, tombstone: bool) -> Any:
        if self._amount_json is None or tombstone:
            return None
        raw = _read(self._amount_json, doc)
        if raw is MISSING or raw is None:
            # An event with no amount adds nothing (an order update beside the payments of
            # one stream); it is judged, not skipped, so it counts as covered.
            self.without_amount += 1
            return None
        number = to_number(raw)
        if number is None:
            self._fail("amount")
            return MISSING
        return number


def _getter(cfg: object) -> Getter | None:
    return json_getter(cfg.json_path) if isinstance(cfg, JsonField) else None


def _read(getter: Getter | None, doc: Any) -> Any:
    return MISSING if getter is None or doc is MISSING else getter(doc)


def compile_extractors(config: ExtractorConfig, where: Where | None = None) -> Extractor:
    """Compile once; the returned callable is reused for every message of a run."""
    return Extractor(config, where)
