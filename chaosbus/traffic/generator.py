"""Traffic from a spec: entity lifecycles, interleaved, at a rate that ramps (pure).

    t = 0; `open` slots for entities in flight
    until t reaches duration_s (or `count` events):
        pick a slot at random
          empty, or its entity falls silent (what `next` leaves below 1) → a new entity there,
          in the start state (its entity fields drawn now)
          else → the entity moves to a next state, drawn by the probabilities
        emit that event at t (a terminal state frees the slot)
        t += the gap: exponential with mean 1/rate(t) (poisson) or exactly 1/rate(t) (even)

Each entity's events come out in lifecycle order with versions 1, 2, 3…; events of different
entities interleave as the slots are picked. Everything is drawn from one `random.Random`
seeded by the spec (or the caller), so one seed gives the same records, ids included.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from chaosbus.traffic.fields import Draw, Drawer
from chaosbus.traffic.generator_spec import State, TrafficSpec
from chaosbus.traffic.records import UNKNOWN_PARTITION, TrafficRecord


@dataclass
class _Entity:
    key: Any
    state: str
    version: int
    fields: dict[str, Any] = field(default_factory=dict)


class _Compiled:
    """The spec's generators compiled once against one random source."""

    def __init__(self, spec: TrafficSpec, rng: random.Random) -> None:
        drawer = Drawer(rng)
        self.key = drawer.compile(spec.entities.key)
        self.entity_fields = {n: drawer.compile(f) for n, f in spec.entities.fields.items()}
        self.state_fields: dict[str, dict[str, Draw]] = {
            name: {n: drawer.compile(f) for n, f in state.fields.items()}
            for name, state in spec.lifecycle.states.items()
        }
        self.transitions: dict[str, tuple[list[str], list[float]]] = {}
        for name, state in spec.lifecycle.states.items():
            targets = [t for t, p in state.next.items() if p > 0]
            cumulative, total = [], 0.0
            for target in targets:
                total += state.next[target]
                cumulative.append(total)
            self.transitions[name] = (targets, cumulative)


def generate(
    spec: TrafficSpec, *, seed: int | None = None, start_ms: int = 0
) -> Iterator[TrafficRecord]:
    """The spec's records with timestamps from `start_ms`; partition unknown (keyed on replay)."""
    rng = random.Random(spec.seed if seed is None else seed)
    compiled = _Compiled(spec, rng)
    states = spec.lifecycle.states
    slots: list[_Entity | None] = [None] * spec.entities.open
    limit = spec.count if spec.count is not None else None
    t, emitted = 0.0, 0
    while t < spec.duration_s and (limit is None or emitted < limit):
        slot = rng.randrange(len(slots))
        entity = slots[slot]
        moved = entity is not None and _move(entity, compiled, rng)
        if entity is None or not moved:
            entity = _new_entity(spec, compiled, rng)
            slots[slot] = entity
        state = states[entity.state]
        yield _record(spec, compiled, rng, entity, state, start_ms + int(t * 1000), emitted)
        if state.terminal:
            slots[slot] = None
        emitted += 1
        rate = spec.rate_at(t)
        t += rng.expovariate(rate) if spec.arrivals == "poisson" else 1.0 / rate


def _new_entity(spec: TrafficSpec, compiled: _Compiled, rng: random.Random) -> _Entity:
    fields = {name: draw(rng) for name, draw in compiled.entity_fields.items()}
    return _Entity(compiled.key(rng), spec.lifecycle.start, 1, fields)


def _move(entity: _Entity, compiled: _Compiled, rng: random.Random) -> bool:
    """Move to a next state; False when the entity falls silent instead."""
    targets, cumulative = compiled.transitions[entity.state]
    draw = rng.random()
    for target, bound in zip(targets, cumulative, strict=True):
        if draw < bound:
            entity.state = target
            entity.version += 1
            return True
    return False


def _record(
    spec: TrafficSpec,
    compiled: _Compiled,
    rng: random.Random,
    entity: _Entity,
    state: State,
    timestamp_ms: int,
    index: int,
) -> TrafficRecord:
    events = spec.events
    doc: dict[str, Any] = {}
    if events.event_id is not None:
        doc[events.event_id] = f"{rng.getrandbits(128):032x}"
    doc[events.state_field] = entity.state
    if spec.entities.key_field is not None:
        doc[spec.entities.key_field] = entity.key
    if events.version_field is not None:
        doc[events.version_field] = entity.version
    doc.update(entity.fields)
    for name, draw in compiled.state_fields[entity.state].items():
        doc[name] = draw(rng)
    headers = tuple(
        (header, _text(doc[source])) for header, source in events.headers.items() if source in doc
    )
    key = _text(entity.key)
    value = None if state.tombstone else json.dumps(doc, separators=(",", ":")).encode()
    return TrafficRecord(key, value, headers, timestamp_ms, UNKNOWN_PARTITION, index)


def _text(value: Any) -> bytes:
    return (value if isinstance(value, str) else json.dumps(value)).encode("utf-8")
