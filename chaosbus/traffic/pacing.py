"""When each replayed record is due, and the fresh ids of each lap (pure).

`--speed x1` keeps the recording's inter-arrival pattern: a record is due at
(its timestamp - the first's) / speed seconds after the start, never before the record
ahead of it (a timestamp that goes backwards is sent at once, in file order, so per-key
order holds). `--speed max` sends as fast as the broker takes it. `--rate N/s` ignores the
timestamps and spaces records 1/N s apart. With `--loop`, the next lap starts one mean gap
after the last record of the one before.

`IdShifter` gives every lap of every replay fresh ids: each selected value becomes
pseudonym(lap salt, value), so within a lap one id keeps one new id (an entity's events still
belong together) and no id of one lap equals one of another or of the recording.
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
from dataclasses import dataclass

from chaosbus.streams.ledger import pseudonym
from chaosbus.traffic.records import TrafficRecord
from chaosbus.traffic.selectors import NotJson, Rewriter, Selector

AS_FAST_AS_POSSIBLE = math.inf
MAX_SPEED = 1_000_000.0
MAX_RATE = 10_000_000.0


@dataclass(frozen=True)
class Pace:
    """Exactly one of: a speed factor over the recorded timestamps, or a fixed rate."""

    speed: float | None = 1.0
    rate: float | None = None

    def __post_init__(self) -> None:
        if (self.speed is None) == (self.rate is None):
            raise ValueError("a pace is a speed or a rate, not both")
        if self.speed is not None and not self.speed > 0:
            raise ValueError(f"speed {self.speed}: must be > 0")
        if self.rate is not None and not 0 < self.rate <= MAX_RATE:
            raise ValueError(f"rate {self.rate}/s: must be > 0 and ≤ {MAX_RATE:,.0f}")

    def describe(self) -> str:
        if self.rate is not None:
            return f"{self.rate:g}/s"
        return "as fast as possible" if self.speed == AS_FAST_AS_POSSIBLE else f"x{self.speed:g}"


def parse_speed(text: str) -> float:
    """`x1`, `x10`, `0.5`, `x0.25` or `max`; raises ValueError with the reason."""
    cleaned = text.strip().lower()
    if cleaned == "max":
        return AS_FAST_AS_POSSIBLE
    match = re.fullmatch(r"x?(\d+(?:\.\d+)?)", cleaned)
    if match is None or not 0 < float(match.group(1)) <= MAX_SPEED:
        raise ValueError(
            f"--speed {text!r}: x1, x10, x0.5 (a factor above 0, at most {MAX_SPEED:,.0f}) or max"
        )
    return float(match.group(1))


def parse_rate(text: str) -> float:
    """`500/s` or `500`; raises ValueError with the reason."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(?:/s)?", text.strip())
    if match is None or not 0 < float(match.group(1)) <= MAX_RATE:
        raise ValueError(f"--rate {text!r}: messages per second, like 500/s (above 0)")
    return float(match.group(1))


class Schedule:
    """Seconds from the start at which each record, taken in file order, is due."""

    def __init__(self, pace: Pace) -> None:
        self.pace = pace
        self._index = 0
        self._lap_start = 0.0
        self._first_ms: int | None = None
        self._last_ms: int | None = None
        self._in_lap = 0
        self._last_due = 0.0

    def due(self, record: TrafficRecord) -> float:
        if self.pace.rate is not None:
            due = self._index / self.pace.rate
        elif self.pace.speed == AS_FAST_AS_POSSIBLE:
            due = 0.0
        else:
            assert self.pace.speed is not None
            if self._first_ms is None:
                self._first_ms = record.timestamp_ms
            offset = (record.timestamp_ms - self._first_ms) / 1000 / self.pace.speed
            due = max(self._last_due, self._lap_start + offset)
            self._last_ms = record.timestamp_ms
        self._index += 1
        self._in_lap += 1
        self._last_due = due
        return due

    def next_lap(self) -> None:
        """The next record opens a new lap, one mean gap after this lap's last."""
        if self.pace.speed is not None and self.pace.speed != AS_FAST_AS_POSSIBLE:
            span = (self._last_ms or 0) - (self._first_ms or 0)
            gap_ms = span / (self._in_lap - 1) if self._in_lap > 1 else 1000.0
            self._lap_start = self._last_due + gap_ms / 1000 / self.pace.speed
            self._first_ms = None
        self._in_lap = 0


class IdShifter:
    """Fresh ids for every lap: `apply` rewrites the id fields with that lap's salt."""

    def __init__(self, fields: tuple[Selector, ...], seed: bytes | None = None) -> None:
        if not fields:
            raise ValueError("--shift-ids needs the id fields (--id-fields key,$.event_id,…)")
        self.fields = fields
        self._seed = seed if seed is not None else secrets.token_bytes(16)
        self.lap = -1
        self._rewriter: Rewriter | None = None
        self.next_lap()

    def next_lap(self) -> None:
        self.lap += 1
        salt = hashlib.sha256(self._seed + self.lap.to_bytes(8, "big")).digest()
        self._rewriter = Rewriter(self.fields, (), lambda value: pseudonym(salt, value))

    def apply(self, record: TrafficRecord) -> TrafficRecord:
        assert self._rewriter is not None
        try:
            return self._rewriter.apply(record)
        except NotJson:
            # Nothing to reach inside; the key and headers alone are shifted.
            keyed = Rewriter(
                tuple(s for s in self.fields if s.kind != "json"),
                (),
                self._rewriter.transform,
            )
            return keyed.apply(record)
