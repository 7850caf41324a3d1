"""The `counter` model: per key, the sum of a field over distinct events.

Distinct by event id: a duplicate delivery of the same event must not count twice. Events
without an amount (tombstones) add nothing.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Collection, Iterable

from monitors.history import Number, SourceEvent

# Above this many dropped events on one key, the subset search below stops being cheap.
SUBSET_SEARCH_LIMIT = 12


def expected_total(events: Iterable[SourceEvent], skip: Collection[str] = ()) -> float:
    """The number downstream should hold."""
    seen: set[str] = set()
    total = 0.0
    for event in events:
        if event.event_id in skip or event.event_id in seen:
            continue
        seen.add(event.event_id)
        total += event.amount or 0
    return total


def same(a: Number, b: Number) -> bool:
    """Equality for sums of floats, tolerant of rounding."""
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def reconciled_count(surplus: Number, dropped_amounts: list[Number]) -> int | None:
    """How many dropped events explain `surplus` over the expected total, or None.

    A service may reconcile some dropped events and not others, so any subset counts;
    the search is bounded, and past the bound only none-or-all are recognised.
    """
    if same(surplus, 0):
        return 0
    if same(surplus, sum(dropped_amounts)):
        return len(dropped_amounts)
    if len(dropped_amounts) > SUBSET_SEARCH_LIMIT:
        return None
    for size in range(1, len(dropped_amounts)):
        for subset in itertools.combinations(dropped_amounts, size):
            if same(surplus, sum(subset)):
                return size
    return None
