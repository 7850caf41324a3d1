"""Collected facts grouped by unit, fed one at a time: the state both checkers share.

The batch checker feeds a whole history and judges every unit; the live checker feeds as
facts arrive and judges the units they touched. Either way the judgement of a unit is a
pure function of its `UnitFacts`.

Delivery and drop: an event may be delivered by the source more than once (a producer
retry). It counts as dropped only when the ledger dropped *every* one of its deliveries;
a delivery the ledger has not (yet) recorded counts as delivered.

Garbage: a corrupted or drifted copy (its ledger emission's variant, see `is_garbage`; the
fault that made a variant says whether it is garbage) is not the event. A delivery whose
every copy is garbage (`mode: replace`) never reached the service intact: it is *missing*
like a drop and named in `corrupted` as well as `dropped`. A delivery with an intact copy
and a garbage one (`mode: extra`) is delivered, and its event is named in `garbage`: the
copy the service must skip. A replay (`replay`) and an outage's held copy are
byte-identical deliveries, not garbage.

Settling: an event is *due* downstream once the interposer sent its last emission (the
source timestamp when the ledger has no record of it) and, when the run sampled the
service group's commits (`Consumed`), once the service was seen to have consumed it (a
copy never seen consumed never settles: its unit is pending); a unit is *settled*
`settle_ms` after its latest event was due. Only observations taken after that are judged
as state.

Speed: a unit's latest due time and its dropped deliveries are kept up to date as facts
arrive, so judging a unit never looks its events up in the million-entry ledger map (those
lookups, in unit order, land all over memory and cost more than the whole judgement).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import TypeVar

from chaosbus.contracts.ledger_record import LedgerEmission, LedgerRecord
from chaosbus.injectors.registry import INJECTORS
from chaosbus.monitors.consumed import Consumed
from chaosbus.monitors.history import Coordinates, Effect, Observation, SourceEvent

T = TypeVar("T", Effect, Observation)

# Attribute reads done in C: the batch loop runs once per event.
_EVENT_ID = attrgetter("event_id")
_UNIT_OF = {True: _EVENT_ID, False: attrgetter("entity")}


@dataclass(frozen=True, slots=True)
class UnitFacts:
    """Everything known about one unit, up to the horizon, in time order.

    `dropped`: events never delivered intact (dropped, or only garbage copies sent);
    `corrupted`: those of them that were sent as garbage; `garbage`: events delivered
    intact that also got a garbage copy. `origin_ms`: the run's start, from which a detail
    line counts its times (None: it names instants in epoch ms).
    """

    unit: str
    events: list[SourceEvent]
    dropped: frozenset[str]
    effects: dict[str, list[Effect]]
    observations: list[Observation]
    settled_at_ms: int
    horizon_ms: int | None
    corrupted: frozenset[str] = frozenset()
    garbage: frozenset[str] = frozenset()
    origin_ms: int | None = None


INTACT, CORRUPTED, WITH_GARBAGE, DROPPED = 0, 1, 2, 3


def is_garbage(variant: str | None) -> bool:
    """Whether a ledger emission's variant names a copy a correct service must not apply.

    A variant starts with the type of the fault that made it (`corrupt:flip`, `replay`);
    that fault says which of its variants are garbage.
    """
    if variant is None:
        return False
    injector = INJECTORS.get(variant.partition(":")[0])
    return injector is not None and injector.garbage(variant)


def delivery_kind(emissions: tuple[LedgerEmission, ...]) -> int:
    """`INTACT`, `CORRUPTED` (every copy garbage) or `WITH_GARBAGE` (intact and garbage)."""
    garbage = sum(1 for e in emissions if e.variant is not None and is_garbage(e.variant))
    if not garbage:
        return INTACT
    return CORRUPTED if garbage == len(emissions) else WITH_GARBAGE


class _Unit:
    """One unit's events (first delivery per id), latest due time and dropped deliveries."""

    __slots__ = ("drops", "due_ms", "events", "garbage", "raw")

    def __init__(self) -> None:
        self.events: dict[str, SourceEvent] = {}
        self.due_ms = 0
        self.drops: dict[Coordinates, str] = {}  # dropped delivery -> its event id
        self.raw: list[SourceEvent] = []  # batch mode: deliveries not yet sorted into events
        self.garbage: dict[Coordinates, str] = {}  # delivery with a garbage copy -> event id


# The due time of a copy the service was never seen to consume: its unit never settles, so
# it is pending (no state judged), not wrong. A service stuck before it is named by the lag
# (`stalled_consumer`); one merely behind at the end had not applied it yet.
AWAITING_SERVICE_MS = 2**62


def ledger_due_ms(record: LedgerRecord, consumed: Consumed | None = None) -> int:
    """When the last emission of a decision left (or was planned to), or the decision; and
    with `consumed`, no earlier than the service was seen to have consumed each copy (a
    state read while the copy still waited in the service's queue says nothing wrong), or
    `AWAITING_SERVICE_MS` when it was never seen to."""
    decided = due = record.decided_at_ms
    for emission in record.emissions:
        sent = emission.sent_at_ms
        if sent is None:
            sent = decided + emission.planned_delay_ms
        if sent > due:
            due = sent
    if consumed is not None and record.route == consumed.route:
        for emission in record.emissions:
            if emission.partition is None or emission.offset is None:
                continue
            at = consumed.consumed_at(emission.partition, emission.offset)
            if at is None:
                return AWAITING_SERVICE_MS
            if at > due:
                due = at
    return due


class HistoryIndex:
    """Facts by unit. `by_event_id` makes each event its own unit (the `once` model).

    With `late_ledger=False` the index does not remember which unit a delivery belongs
    to, which saves a map entry per delivery; the ledger must then be fed before the
    sources (the batch checker does so). The live checker keeps the default.
    """

    def __init__(
        self,
        *,
        by_event_id: bool = False,
        late_ledger: bool = True,
        consumed: Consumed | None = None,
    ) -> None:
        self.by_event_id = by_event_id
        self.consumed = consumed  # when the service consumed each copy (see `ledger_due_ms`)
        self.effects: dict[str, list[Effect]] = {}
        self.observations: dict[str, list[Observation]] = {}
        self.source_deliveries = 0
        self.unledgered = 0  # source deliveries the ledger has (so far) no record of
        self._units: dict[str, _Unit] = {}
        self._ledger_due: dict[Coordinates, int] = {}
        self._dropped: set[Coordinates] = set()  # no intact copy: dropped or corrupted
        self._corrupted: set[Coordinates] = set()
        self._garbage: set[Coordinates] = set()  # an intact copy and a garbage one
        # Deliveries beyond an event's first are rare; only they are stored apart.
        self._extra_deliveries: dict[str, list[Coordinates]] = {}
        self._by_coords: dict[Coordinates, tuple[str, str]] | None = {} if late_ledger else None
        # Live mode also keeps, per event id, its unit (effects name only the id) and a
        # running count of effects whose event is known, so snapshots stay O(changes).
        self._event_units: dict[str, str] | None = {} if late_ledger else None
        self._effects_total = 0
        self._effects_known = 0
        self._event_total = 0

    def unit_of(self, event: SourceEvent) -> str:
        return event.event_id if self.by_event_id else event.entity

    def add_sources(self, events: Iterable[SourceEvent]) -> None:
        """Feed source deliveries in source order. Runs once per event: kept tight."""
        if self._by_coords is None:
            self._add_sources_batch(events)
            return
        units, by_event_id = self._units, self.by_event_id
        ledger_due, dropped, by_coords = self._ledger_due, self._dropped, self._by_coords
        garbage = self._garbage
        for event in events:
            self.source_deliveries += 1
            unit = event.event_id if by_event_id else event.entity
            coords = event.coords
            slot = units.get(unit)
            if slot is None:
                slot = units[unit] = _Unit()
            first = slot.events.setdefault(event.event_id, event)
            if first is event:
                self._event_total += 1
            elif first.coords != coords:
                self._extra_deliveries.setdefault(event.event_id, []).append(coords)
            event_units = self._event_units
            if event_units is not None and event.event_id not in event_units:
                event_units[event.event_id] = unit
                self._effects_known += len(self.effects.get(event.event_id, ()))
            due = ledger_due.get(coords)
            if due is None:
                self.unledgered += 1
                due = event.timestamp_ms
            elif due < event.timestamp_ms:
                due = event.timestamp_ms
            if due > slot.due_ms:
                slot.due_ms = due
            if dropped and coords in dropped:
                slot.drops[coords] = event.event_id
            if garbage and coords in garbage:
                slot.garbage[coords] = event.event_id
            if by_coords is not None:
                by_coords[coords] = (unit, event.event_id)

    def _add_sources_batch(self, events: Iterable[SourceEvent]) -> None:
        """`add_sources` for the batch checker, the one loop that runs per event of a
        million: locals only, no per-event attribute writes on the index, and a drop read
        from the sign of the ledger due time (see `add_ledger_records`) instead of a set."""
        units, corrupted, garbage = self._units, self._corrupted, self._garbage
        get_unit, get_due = units.get, self._ledger_due.get
        listed = events if isinstance(events, Sequence) else list(events)
        unledgered = 0
        for unit, event in zip(map(_UNIT_OF[self.by_event_id], listed), listed, strict=True):
            slot = get_unit(unit)
            if slot is None:
                slot = units[unit] = _Unit()
            slot.raw.append(event)
            coords = event.coords
            due = get_due(coords)
            at = event.timestamp_ms
            if due is None:
                unledgered += 1
                due = at
            else:
                if due < 0:  # the ledger's last word on this delivery was a drop
                    due = ~due
                    slot.drops[coords] = event.event_id
                elif corrupted and coords in corrupted:  # only garbage sent: missing too
                    slot.drops[coords] = event.event_id
                if garbage and coords in garbage:
                    slot.garbage[coords] = event.event_id
                if due < at:
                    due = at
            if due > slot.due_ms:
                slot.due_ms = due
        self.source_deliveries += len(listed)
        self.unledgered += unledgered
        for slot in units.values():
            if slot.raw:
                self._sort_deliveries(slot)
        self._event_total = sum(len(slot.events) for slot in units.values())

    def _sort_deliveries(self, slot: _Unit) -> None:
        """A unit's batch deliveries into its events, the first delivery of an id standing
        for it (built in C when no id repeats, the common case)."""
        raw, slot.raw = slot.raw, []
        ids = list(map(_EVENT_ID, raw))
        events = slot.events
        if not events:
            events.update(zip(ids, raw, strict=True))
            if len(events) == len(raw):
                return
            events.clear()
        extra = self._extra_deliveries
        for event_id, event in zip(ids, raw, strict=True):
            first = events.setdefault(event_id, event)
            if first is not event and first.coords != event.coords:
                extra.setdefault(event_id, []).append(event.coords)

    def add_source(self, event: SourceEvent) -> str:
        """Feed one source delivery; returns its unit."""
        self.add_sources((event,))
        return self.unit_of(event)

    def add_ledger(self, record: LedgerRecord) -> str | None:
        """Feed one ledger record; returns the unit it changes, when its source is known."""
        coords = (record.topic, record.partition, record.offset)
        due = ledger_due_ms(record, self.consumed)
        known = coords in self._ledger_due
        self._ledger_due[coords] = due
        # A replayed decision for the same message supersedes the earlier one.
        kind = self._note_kind(coords, record.emissions)
        found = None if self._by_coords is None else self._by_coords.get(coords)
        if found is None:
            return None
        unit, event_id = found
        slot = self._units[unit]
        if not known:
            self.unledgered -= 1
        slot.due_ms = max(slot.due_ms, due)
        if coords in self._dropped:
            slot.drops[coords] = event_id
        else:
            slot.drops.pop(coords, None)
        if kind == WITH_GARBAGE:
            slot.garbage[coords] = event_id
        else:
            slot.garbage.pop(coords, None)
        return unit

    def consumed_later(self, coords: Coordinates, at_ms: int) -> str | None:
        """A copy of the delivery at `coords` was seen consumed at `at_ms` (live, once the
        service group commits past it): the delivery is due no earlier. Returns its unit
        when its source is known (to be judged again)."""
        due = self._ledger_due.get(coords)
        if due is None or due < 0:
            return None
        if at_ms > due:
            self._ledger_due[coords] = at_ms
        found = None if self._by_coords is None else self._by_coords.get(coords)
        if found is None:
            return None
        slot = self._units[found[0]]
        slot.due_ms = max(slot.due_ms, at_ms)
        return found[0]

    def _note_kind(self, coords: Coordinates, emissions: tuple[LedgerEmission, ...]) -> int:
        """File one delivery under dropped / corrupted / with-garbage; returns its kind."""
        kind = delivery_kind(emissions) if emissions else DROPPED
        if kind in (DROPPED, CORRUPTED):
            self._dropped.add(coords)
        else:
            self._dropped.discard(coords)
        if kind == CORRUPTED:
            self._corrupted.add(coords)
        else:
            self._corrupted.discard(coords)
        if kind == WITH_GARBAGE:
            self._garbage.add(coords)
        else:
            self._garbage.discard(coords)
        return kind

    def add_ledger_records(self, records: Iterable[LedgerRecord]) -> None:
        """Feed ledger records before any source; one per delivery, so kept tight."""
        if self._by_coords:  # sources already fed: each record may change a unit
            for record in records:
                self.add_ledger(record)
            return
        # A drop is stored as the bitwise complement of its due time (negative: epoch
        # milliseconds are not), so a later record for the same delivery (a replayed
        # decision supersedes) overwrites it, and the set of dropped deliveries is built
        # once, from the drops alone. The source pass decodes it (see `_add_sources_batch`).
        due, drops, garbage, corrupted = self._ledger_due, [], self._garbage, self._corrupted
        consumed = self.consumed
        for record in records:
            coords = (record.topic, record.partition, record.offset)
            emissions = record.emissions
            decided = record.decided_at_ms
            if consumed is not None and emissions:
                due[coords] = ledger_due_ms(record, consumed)
            elif len(emissions) == 1:
                # The common case spelled out; same result as ledger_due_ms.
                sent = emissions[0].sent_at_ms
                if sent is None:
                    sent = decided + emissions[0].planned_delay_ms
                due[coords] = sent if sent > decided else decided
            elif emissions:
                due[coords] = ledger_due_ms(record)
            else:
                due[coords] = ~decided
                drops.append(coords)
                if corrupted:
                    corrupted.discard(coords)
                continue
            if emissions[0].variant is None and (
                len(emissions) == 1 or all(e.variant is None for e in emissions)
            ):
                # The common case spelled out: intact copies only.
                if corrupted:
                    corrupted.discard(coords)
                    self._dropped.discard(coords)
                if garbage:
                    garbage.discard(coords)
            else:
                self._note_kind(coords, emissions)
        self._dropped.update(coords for coords in drops if due[coords] < 0)

    def add_effect(self, effect: Effect) -> None:
        self.add_effects((effect,))

    def unit_of_event(self, event_id: str) -> str | None:
        """The unit of a known event (live mode only; None otherwise)."""
        if self.by_event_id:
            # An effect read before its source event waits for the source to mark it.
            return event_id if event_id in self._units else None
        return None if self._event_units is None else self._event_units.get(event_id)

    def add_effects(self, effects: Iterable[Effect]) -> None:
        """`add_effect` for a whole history, without a call per effect."""
        by_id, event_units = self.effects, self._event_units
        for effect in effects:
            self._effects_total += 1
            found = by_id.get(effect.event_id)
            if found is None:
                by_id[effect.event_id] = [effect]
            else:
                found.append(effect)
            if event_units is not None and effect.event_id in event_units:
                self._effects_known += 1

    def add_observation(self, observation: Observation) -> None:
        self.observations.setdefault(observation.entity, []).append(observation)

    def _all_dropped(self, slot: _Unit, event_id: str) -> bool:
        """Whether the ledger dropped (or sent only garbage for) every delivery of the event."""
        if slot.events[event_id].coords not in self._dropped:
            return False
        extra = self._extra_deliveries.get(event_id, ())
        return all(coords in self._dropped for coords in extra)

    def _deliveries(self, slot: _Unit, event_id: str) -> list[Coordinates]:
        return [slot.events[event_id].coords, *self._extra_deliveries.get(event_id, ())]

    def units(self) -> list[str]:
        """Every unit, in the order first seen: source units, then downstream-only ones."""
        others = self.effects if self.by_event_id else self.observations
        units = self._units
        return [*units, *(unit for unit in others if unit not in units)]

    def lone_effect_latency(self, unit: str, horizon_ms: int | None) -> int | None:
        """For a `once` unit in the common clean shape (one event, delivered, one effect
        within the horizon): that effect's latency. None for any other shape."""
        slot = self._units.get(unit)
        effects = self.effects.get(unit)
        if slot is None or slot.drops or effects is None or len(effects) != 1:
            return None
        seen = effects[0].observed_at_ms
        if len(slot.events) != 1 or (horizon_ms is not None and seen > horizon_ms):
            return None
        return seen - slot.events[unit].timestamp_ms

    def deliveries(self, unit: str) -> list[tuple[SourceEvent, tuple[Coordinates, ...]]]:
        """The unit's events (first delivery each, source order) and every delivery's
        coordinates: what the causes of an anomaly join the ledger on."""
        slot = self._units.get(unit)
        if slot is None:
            return []
        extra = self._extra_deliveries
        return [
            (event, (event.coords, *extra.get(event_id, ())))
            for event_id, event in slot.events.items()
        ]

    def event_count_of(self, unit: str) -> int:
        """One unit's distinct events (by id): what `facts(unit).events` would hold."""
        slot = self._units.get(unit)
        return 0 if slot is None else len(slot.events)

    def event_count(self) -> int:
        """Distinct events (by id within their unit)."""
        return self._event_total

    def facts(
        self,
        unit: str,
        settle_ms: int,
        horizon_ms: int | None = None,
        origin_ms: int | None = None,
    ) -> UnitFacts:
        slot = self._units.get(unit) or _Unit()
        events = list(slot.events.values())
        dropped: frozenset[str] = frozenset()
        corrupted: frozenset[str] = frozenset()
        if slot.drops:
            dropped = frozenset(i for i in set(slot.drops.values()) if self._all_dropped(slot, i))
            if self._corrupted:
                corrupted = frozenset(
                    i
                    for i in dropped
                    if any(c in self._corrupted for c in self._deliveries(slot, i))
                )
        garbage = frozenset(slot.garbage.values()) - dropped if slot.garbage else frozenset()
        effects: dict[str, list[Effect]] = {}
        if self.effects:
            ids = [unit] if self.by_event_id else [e.event_id for e in events]
            found = {i: _upto(self.effects[i], horizon_ms) for i in ids if i in self.effects}
            effects = {i: shown for i, shown in found.items() if shown}  # none by the horizon
        observations = _upto(self.observations.get(unit, []), horizon_ms)
        settled = slot.due_ms + settle_ms
        return UnitFacts(
            unit,
            events,
            dropped,
            effects,
            observations,
            settled,
            horizon_ms,
            corrupted,
            garbage,
            origin_ms,
        )

    def orphan_effects(self) -> int:
        """Effects naming an event id the source never carried."""
        if not self.effects:
            return 0
        if self._event_units is not None:
            return self._effects_total - self._effects_known
        if self.by_event_id:
            return sum(len(v) for k, v in self.effects.items() if k not in self._units)
        known = {i for slot in self._units.values() for i in slot.events}
        return sum(len(v) for k, v in self.effects.items() if k not in known)


def _upto(items: list[T], horizon_ms: int | None) -> list[T]:
    if len(items) < 2 and horizon_ms is None:
        return list(items)
    ordered = sorted(items, key=lambda item: item.observed_at_ms)
    if horizon_ms is None:
        return ordered
    return [item for item in ordered if item.observed_at_ms <= horizon_ms]
