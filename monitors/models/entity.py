"""The `entity` model: per key, the highest version wins; a delete is a tombstone.

Events rank by `(version, is_delete)`, so a delete outranks every older version and the
same version, and only a strictly newer version brings a deleted entity back. A delete
without a version (a bare Kafka tombstone) takes the highest version seen before it in
source order: it deletes whatever came before it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from operator import attrgetter, itemgetter
from typing import NamedTuple

from chaosbus.monitors.history import Number, SourceEvent

Rank = tuple[Number, bool]
_RANK = attrgetter("version", "is_delete")
_STATE_RANK = itemgetter(0, 1)


class EntityState(NamedTuple):
    """The state one event leaves an entity in (a tuple: built once per event per check)."""

    version: Number
    deleted: bool
    event_id: str
    timestamp_ms: int

    @property
    def rank(self) -> Rank:
        return (self.version, self.deleted)

    def describe(self) -> str:
        return f"deleted@v{self.version}" if self.deleted else f"v{self.version}"


def entity_states(events: Iterable[SourceEvent]) -> list[EntityState]:
    """Each event's resulting state, with bare deletes' versions resolved."""
    states: list[EntityState] = []
    highest: Number = float("-inf")
    for event in events:
        version = highest if event.version is None else event.version
        if version > highest:
            highest = version
        states.append(EntityState(version, event.is_delete, event.event_id, event.timestamp_ms))
    return states


def expected_state(events: Sequence[SourceEvent], skip: Collection[str] = ()) -> EntityState | None:
    """The state downstream should hold; `None` when no event applies."""
    chosen = [e for e in events if e.event_id not in skip] if skip else events
    if not chosen:
        return None
    try:
        # The common case, all versions known: one C-level max over the events.
        best = max(chosen, key=_RANK)
    except TypeError:  # a bare delete's None met a number: resolve versions first
        best = None
    if best is None or best.version is None:
        states = [s for s in entity_states(events) if s.event_id not in skip]
        return max(states, key=_STATE_RANK)
    return EntityState(best.version, best.is_delete, best.event_id, best.timestamp_ms)


def shows(state: EntityState | None, observed: Number | None) -> bool:
    """Whether an observed version (None: absent) is what `state` looks like downstream."""
    if state is None or state.deleted:
        return observed is None
    return observed == state.version
