"""The `once` model: each source event has exactly one downstream effect."""

from __future__ import annotations

from collections.abc import Collection, Iterable

from chaosbus.monitors.history import SourceEvent


def expected_effects(events: Iterable[SourceEvent], skip: Collection[str] = ()) -> dict[str, int]:
    """Event id -> number of effects expected (one per distinct event not skipped)."""
    return {e.event_id: 1 for e in events if e.event_id not in skip}
