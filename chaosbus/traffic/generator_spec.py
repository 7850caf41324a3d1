"""A traffic spec: entity lifecycles, their fields, and a rate that ramps and bursts (pure).

    name: orders
    seed: 7
    duration_s: 60                       # the traffic's timestamps span this (≤ 24 h)
    count: 100000                        # optional: at most this many events
    ramp: {from: 50, to: 2000, over_s: 60}    # or rate: 200 (events/s)
    bursts: [{at_s: 20, for_s: 2, factor: 5}, {every_s: 15, for_s: 1, factor: 3}]
    arrivals: poisson                    # or even (1/rate apart)
    entities:
      key: {sequence: "o-{n:05d}"}       # the entity id: the Kafka key
      key_field: order_id                # and the payload field that repeats it (optional)
      open: 50                           # entities in flight at once: they interleave
      fields: {customer: {pool: 200, of: {fake: person.email}}}   # drawn once per entity
    events:
      event_id: event_id                 # a fresh UUID per event in this field (null: none)
      state_field: type                  # the state's name
      version_field: version             # 1, 2, 3… per entity (null: none)
      headers: {event-id: event_id}      # header ← payload field
    lifecycle:
      start: created
      states:
        created: {next: {updated: 0.6, paid: 0.3, cancelled: 0.1}}
        updated: {next: {updated: 0.3, paid: 0.6}, fields: {total: {int: [100, 90000]}}}
        paid: {fields: {amount: {int: [100, 90000]}}}        # no next: the lifecycle ends
        cancelled: {tombstone: true}                          # a Kafka tombstone (null value)

In `next`, what the probabilities leave below 1 is the chance that the entity falls silent
in that state. Refused with the path named: a probability sum above 1, a `next` naming no
state, a state unreachable from `start`, a header naming no field.
"""

from __future__ import annotations

import os
from typing import Self

from pydantic import Field, ValidationError, model_validator

from chaosbus.documents import DocumentError, read_yaml_file
from chaosbus.injectors.limits import (
    MAX_COUNT,
    MAX_DURATION_S,
    MAX_LIST,
    Name,
    Seed,
    SpecModel,
)
from chaosbus.injectors.validation import ROOT, LocatedError, format_validation_error
from chaosbus.traffic.errors import SpecInvalid
from chaosbus.traffic.fields import FieldSpec, SequenceField

MAX_RATE = 1_000_000.0
MAX_OPEN = 1_000_000
Fields = dict[str, FieldSpec]


class Ramp(SpecModel):
    start: float = Field(alias="from", gt=0, le=MAX_RATE)
    end: float = Field(alias="to", gt=0, le=MAX_RATE)
    over_s: float = Field(gt=0, le=MAX_DURATION_S)


class Burst(SpecModel):
    at_s: float = Field(default=0.0, ge=0, le=MAX_DURATION_S)
    every_s: float | None = Field(default=None, gt=0, le=MAX_DURATION_S)
    for_s: float = Field(gt=0, le=MAX_DURATION_S)
    factor: float = Field(gt=0, le=1_000)

    def active(self, t: float) -> bool:
        if t < self.at_s:
            return False
        since = t - self.at_s
        return (since % self.every_s if self.every_s else since) < self.for_s


class Entities(SpecModel):
    key: FieldSpec = SequenceField(sequence="e-{n:06d}")
    key_field: str | None = Field(default=None, min_length=1, max_length=200)
    open: int = Field(default=20, ge=1, le=MAX_OPEN, strict=True)
    fields: Fields = Field(default_factory=dict, max_length=MAX_LIST)


class Events(SpecModel):
    event_id: str | None = Field(default="event_id", min_length=1, max_length=200)
    state_field: str = Field(default="type", min_length=1, max_length=200)
    version_field: str | None = Field(default="version", min_length=1, max_length=200)
    headers: dict[str, str] = Field(default_factory=dict, max_length=MAX_LIST)


class State(SpecModel):
    next: dict[str, float] = Field(default_factory=dict, max_length=MAX_LIST)
    fields: Fields = Field(default_factory=dict, max_length=MAX_LIST)
    tombstone: bool = False

    @property
    def terminal(self) -> bool:
        return not any(p > 0 for p in self.next.values())


class Lifecycle(SpecModel):
    start: str = Field(min_length=1, max_length=200)
    states: dict[str, State] = Field(min_length=1, max_length=MAX_LIST)

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        if self.start not in self.states:
            raise LocatedError("lifecycle.start", f"no state named {self.start!r}")
        for name, state in self.states.items():
            where = f"lifecycle.states.{name}.next"
            for target, probability in state.next.items():
                if target not in self.states:
                    raise LocatedError(f"{where}.{target}", f"no state named {target!r}")
                if not 0 <= probability <= 1:
                    raise LocatedError(f"{where}.{target}", "a probability is within 0 and 1")
            total = sum(state.next.values())
            if total > 1 + 1e-9:
                raise LocatedError(where, f"the probabilities sum to {total:g}, above 1")
        unreachable = sorted(set(self.states) - self.reachable())
        if unreachable:
            raise LocatedError(
                f"lifecycle.states.{unreachable[0]}",
                f"unreachable from {self.start!r} (no path of next with a probability above 0)",
            )
        return self

    def reachable(self) -> set[str]:
        seen, todo = {self.start}, [self.start]
        while todo:
            for target, probability in self.states[todo.pop()].next.items():
                if probability > 0 and target not in seen:
                    seen.add(target)
                    todo.append(target)
        return seen


class TrafficSpec(SpecModel):
    name: Name = Field(default="traffic", pattern=r"^[A-Za-z0-9_.-]+$")
    seed: Seed = 1
    duration_s: float = Field(gt=0, le=MAX_DURATION_S)
    count: int | None = Field(default=None, ge=1, le=MAX_COUNT, strict=True)
    rate: float | None = Field(default=None, gt=0, le=MAX_RATE)
    ramp: Ramp | None = None
    bursts: tuple[Burst, ...] = Field(default=(), max_length=MAX_LIST)
    arrivals: str = Field(default="poisson", pattern=r"^(poisson|even)$")
    entities: Entities = Entities()
    events: Events = Events()
    lifecycle: Lifecycle

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        if (self.rate is None) == (self.ramp is None):
            raise LocatedError("rate", "give rate (events/s) or ramp ({from, to, over_s}), one")
        known = set(self.payload_fields())
        for header, source in self.events.headers.items():
            if source not in known:
                raise LocatedError(
                    f"events.headers.{header}",
                    f"no payload field {source!r} (known: {', '.join(sorted(known))})",
                )
        return self

    def payload_fields(self) -> list[str]:
        e = self.events
        names = [e.event_id, e.state_field, self.entities.key_field, e.version_field]
        names += list(self.entities.fields)
        for state in self.lifecycle.states.values():
            names += [n for n in state.fields if n not in names]
        return [n for n in names if n is not None]

    def rate_at(self, t: float) -> float:
        """Events per second at `t` seconds: the ramp (or rate), times any active burst."""
        if self.ramp is not None:
            share = min(t / self.ramp.over_s, 1.0)
            rate = self.ramp.start + (self.ramp.end - self.ramp.start) * share
        else:
            assert self.rate is not None
            rate = self.rate
        for burst in self.bursts:
            if burst.active(t):
                rate *= burst.factor
        return rate


def parse_traffic_spec(data: object, origin: str) -> TrafficSpec:
    if not isinstance(data, dict):
        raise SpecInvalid(f"{origin}: expected a mapping with duration_s, rate, lifecycle, …")
    try:
        return TrafficSpec.model_validate(data)
    except ValidationError as exc:
        problems = format_validation_error(exc, data, model=TrafficSpec)
        raise SpecInvalid(f"{origin}: " + "; ".join(problems)) from exc


def load_traffic_spec(path: str | os.PathLike[str]) -> TrafficSpec:
    """Read and validate a traffic spec file; every problem in one `SpecInvalid` line."""
    origin = os.fspath(path)
    try:
        data = read_yaml_file(path, root=ROOT)
    except DocumentError as exc:
        raise SpecInvalid(f"{origin}: {exc}") from exc
    return parse_traffic_spec(data, origin)
