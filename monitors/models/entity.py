"""The `entity` model: per key, the highest version wins; a delete is a tombstone.

Events rank by `(version, is_delete)`, so a delete outranks every older version and the
same version, and only a strictly newer version brings a deleted entity back. A delete
without a version (a bare Kafka tombstone) takes the highest version seen before it in
source order: it deletes whatever came before it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from monitors.history import Number, SourceEvent

Rank = tuple[Number, bool]


@dataclass(frozen=True, slots=True)
class EntityState:
    """The state one event leaves an entity in."""

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
        highest = max(highest, version)
        states.append(EntityState(version, event.is_delete, event.event_id, event.timestamp_ms))
    return states


def expected_state(states: Iterable[EntityState], skip: Collection[str] = ()) -> EntityState | None:
    """The state downstream should hold; `None` when no event applies."""
    best: EntityState | None = None
    for state in states:
        if state.event_id in skip:
            continue
        if best is None or state.rank > best.rank:
            best = state
    return best


def shows(state: EntityState | None, observed: Number | None) -> bool:
    """Whether an observed version (None: absent) is what `state` looks like downstream."""
    if state is None or state.deleted:
        return observed is None
    return observed == state.version
