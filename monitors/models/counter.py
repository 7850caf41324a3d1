"""The `counter` model: per key, the sum of a field over distinct events.

Distinct by event id: a duplicate delivery of the same event must not count twice. Events
without an amount (tombstones) add nothing.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Collection, Iterable

from chaosbus.monitors.history import Number, SourceEvent

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
    found = explaining_subset(surplus, dropped_amounts)
    return None if found is None else len(found)


def explaining_subset(surplus: Number, amounts: list[Number]) -> tuple[int, ...] | None:
    """The indices of a smallest subset of `amounts` summing to `surplus`, or None.

    Bounded like `reconciled_count`: past `SUBSET_SEARCH_LIMIT` amounts, only none or all.
    """
    if same(surplus, 0):
        return ()
    if same(surplus, sum(amounts)):
        return tuple(range(len(amounts)))
    if len(amounts) > SUBSET_SEARCH_LIMIT:
        return None
    for size in range(1, len(amounts)):
        for subset in itertools.combinations(range(len(amounts)), size):
            if same(surplus, sum(amounts[i] for i in subset)):
                return subset
    return None
