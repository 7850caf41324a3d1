"""Collected facts grouped by unit, fed one at a time: the state both checkers share.

The batch checker feeds a whole history and judges every unit; the live checker feeds as
facts arrive and judges the units they touched. Either way the judgement of a unit is a
pure function of its `UnitFacts`.

Delivery and drop: an event may be delivered by the source more than once (a producer
retry). It counts as dropped only when the ledger dropped *every* one of its deliveries;
a delivery the ledger has not (yet) recorded counts as delivered.

Settling: an event is *due* downstream once the interposer sent its last emission (the
source timestamp when the ledger has no record of it); a unit is *settled* `settle_ms`
after its latest event was due. Only observations taken after that are judged as state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from monitors.history import Coordinates, Effect, Observation, SourceEvent
from streams.ledger_record import LedgerRecord

T = TypeVar("T", Effect, Observation)


@dataclass(frozen=True, slots=True)
class UnitFacts:
    """Everything known about one unit, up to the horizon, in time order."""

    unit: str
    events: list[SourceEvent]
    dropped: frozenset[str]
    effects: dict[str, list[Effect]]
    observations: list[Observation]
    settled_at_ms: int
    horizon_ms: int | None


def ledger_due_ms(record: LedgerRecord) -> int:
    """When the last emission of a decision left (or was planned to), or the decision."""
    due = record.decided_at_ms
    for emission in record.emissions:
        sent = emission.sent_at_ms
        due = max(
            due, sent if sent is not None else record.decided_at_ms + emission.planned_delay_ms
        )
    return due


class HistoryIndex:
    """Facts by unit. `by_event_id` makes each event its own unit (the `once` model)."""

    def __init__(self, *, by_event_id: bool = False) -> None:
        self.by_event_id = by_event_id
        self.events: dict[str, dict[str, SourceEvent]] = {}
        self.effects: dict[str, list[Effect]] = {}
        self.observations: dict[str, list[Observation]] = {}
        self.source_deliveries = 0
        # Deliveries beyond an event's first are rare; only they are stored apart.
        self._extra_deliveries: dict[str, list[Coordinates]] = {}
        self._ledger_due: dict[Coordinates, int] = {}
        self._dropped: set[Coordinates] = set()

    def add_source(self, event: SourceEvent) -> str:
        self.source_deliveries += 1
        unit = event.event_id if self.by_event_id else event.entity
        events = self.events.get(unit)
        if events is None:
            events = self.events[unit] = {}
        first = events.get(event.event_id)
        if first is None:
            events[event.event_id] = event
        elif first.coords != event.coords:
            self._extra_deliveries.setdefault(event.event_id, []).append(event.coords)
        return unit

    def add_ledger(self, record: LedgerRecord) -> Coordinates:
        coords = (record.topic, record.partition, record.offset)
        self._ledger_due[coords] = ledger_due_ms(record)
        if not record.emissions:
            self._dropped.add(coords)
        else:
            self._dropped.discard(coords)
        return coords

    def add_effect(self, effect: Effect) -> None:
        self.effects.setdefault(effect.event_id, []).append(effect)

    def add_observation(self, observation: Observation) -> None:
        self.observations.setdefault(observation.entity, []).append(observation)

    def is_dropped(self, event: SourceEvent) -> bool:
        if event.coords not in self._dropped:
            return False
        extra = self._extra_deliveries.get(event.event_id, ())
        return all(coords in self._dropped for coords in extra)

    def due_at_ms(self, event: SourceEvent) -> int:
        due = max(event.timestamp_ms, self._ledger_due.get(event.coords, 0))
        for coords in self._extra_deliveries.get(event.event_id, ()):
            due = max(due, self._ledger_due.get(coords, 0))
        return due

    def units(self) -> set[str]:
        others = self.effects if self.by_event_id else self.observations
        return set(self.events) | set(others)

    def facts(self, unit: str, settle_ms: int, horizon_ms: int | None = None) -> UnitFacts:
        events = list(self.events.get(unit, {}).values())
        dropped = (
            frozenset(e.event_id for e in events if self.is_dropped(e))
            if (self._dropped)
            else frozenset()
        )
        settled = max((self.due_at_ms(e) for e in events), default=0) + settle_ms
        ids = [unit] if self.by_event_id else [e.event_id for e in events]
        effects = {i: _upto(self.effects[i], horizon_ms) for i in ids if i in self.effects}
        observations = _upto(self.observations.get(unit, []), horizon_ms)
        return UnitFacts(unit, events, dropped, effects, observations, settled, horizon_ms)

    def unledgered(self) -> int:
        """Source deliveries the ledger has no record of (not yet decided, or lost)."""
        due = self._ledger_due
        missing = sum(
            e.coords not in due for events in self.events.values() for e in events.values()
        )
        extra = sum(c not in due for cs in self._extra_deliveries.values() for c in cs)
        return missing + extra

    def orphan_effects(self) -> int:
        """Effects naming an event id the source never carried."""
        if self.by_event_id:
            return sum(len(v) for k, v in self.effects.items() if k not in self.events)
        known = {i for events in self.events.values() for i in events}
        return sum(len(v) for k, v in self.effects.items() if k not in known)


def _upto(items: list[T], horizon_ms: int | None) -> list[T]:
    ordered = sorted(items, key=lambda item: item.observed_at_ms)
    if horizon_ms is None:
        return ordered
    return [item for item in ordered if item.observed_at_ms <= horizon_ms]
