"""The deduplication horizon's search: which delays to try next, and what the tries say.

A round replays sampled events at each delay of a ladder; a delay *held* when every copy
replayed at it was recognised (one effect per event), *failed* when any was applied twice,
and is *untested* when no event was replayed at it. The bracket is the largest delay that
held below the smallest that failed; the next ladder splits the bracket evenly, until it is
no wider than the precision asked for (or the rounds run out). The first ladder doubles
from the shortest delay to the longest, so one round brackets any horizon in that range.

Delays are whole milliseconds, as the replay fault takes them. Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

Outcome = Literal["held", "failed", "untested"]


@dataclass(frozen=True)
class Tried:
    """One delay of one round: events replayed at it, and how many were applied twice."""

    delay_ms: int
    replayed: tuple[str, ...]
    applied_twice: tuple[str, ...]

    @property
    def outcome(self) -> Outcome:
        if not self.replayed:
            return "untested"
        return "failed" if self.applied_twice else "held"


@dataclass(frozen=True)
class Bracket:
    held_ms: int | None  # the largest delay that held below `failed_ms`
    failed_ms: int | None  # the smallest delay that failed
    inconsistent: tuple[int, ...] = field(default=())  # held although a shorter one failed

    def width_ms(self) -> int | None:
        if self.failed_ms is None:
            return None
        return self.failed_ms - (self.held_ms or 0)

    def sentence(self) -> str:
        if self.failed_ms is None:
            shown = "—" if self.held_ms is None else f"{self.held_ms / 1000:g} s"
            return f"duplicates are recognised up to ≥ {shown} (no tried delay was applied twice)"
        if self.held_ms is None:
            return (
                f"duplicates are applied twice from {self.failed_ms / 1000:g} s (the shortest "
                "tried delay): no delay held"
            )
        return (
            f"duplicates are recognised up to ≥ {self.held_ms / 1000:g} s, applied twice from "
            f"{self.failed_ms / 1000:g} s"
        )


def first_ladder(min_ms: int, max_ms: int) -> list[int]:
    """min, 2·min, 4·min, … and max: doubling, so any horizon in range is bracketed."""
    ladder = [min_ms]
    while ladder[-1] * 2 < max_ms:
        ladder.append(ladder[-1] * 2)
    if ladder[-1] != max_ms:
        ladder.append(max_ms)
    return ladder


def bracket(tries: Iterable[Tried]) -> Bracket:
    """The bracket every try so far supports (rounds are cumulative)."""
    outcomes: dict[int, list[Outcome]] = {}
    for tried in tries:
        outcomes.setdefault(tried.delay_ms, []).append(tried.outcome)
    failed = sorted(d for d, o in outcomes.items() if "failed" in o)
    held = sorted(d for d, o in outcomes.items() if "held" in o and "failed" not in o)
    smallest_failed = failed[0] if failed else None
    below = [d for d in held if smallest_failed is None or d < smallest_failed]
    above = tuple(d for d in held if smallest_failed is not None and d > smallest_failed)
    return Bracket(below[-1] if below else None, smallest_failed, above)


def next_ladder(found: Bracket, points: int, precision_ms: int, min_ms: int) -> list[int]:
    """Delays strictly inside the bracket, evenly spaced; empty when it is narrow enough
    (or open: nothing failed, or the shortest delay failed already)."""
    if found.failed_ms is None:
        return []
    low = found.held_ms if found.held_ms is not None else 0
    if found.held_ms is None and found.failed_ms <= min_ms:
        return []
    width = found.failed_ms - low
    if width <= precision_ms:
        return []
    step = width / (points + 1)
    ladder = sorted({round(low + step * (i + 1)) for i in range(points)})
    return [d for d in ladder if low < d < found.failed_ms and d >= 1]


def outcomes_of(replayed: Mapping[int, Iterable[str]], effects: Mapping[str, int]) -> list[Tried]:
    """Per delay, the events replayed at it and those that took more than one effect."""
    out: list[Tried] = []
    for delay, events in sorted(replayed.items()):
        ids = tuple(sorted(set(events)))
        out.append(Tried(delay, ids, tuple(e for e in ids if effects.get(e, 0) > 1)))
    return out
