"""How close two traffics are: a recording against its replay or a generator's output (pure).

`traffic_stats` reads records once, in file order, into bounded summaries: counts per second
from the first timestamp, distinct keys and events per key, inter-arrival gaps and value
sizes as HdrHistograms, and per key an order-sensitive and an order-free digest of its
values. `compare` puts two of them side by side, each metric with its tolerance
(`TOLERANCES`, decision 0263): |candidate - reference| ≤ max(absolute, relative * reference).

Per-key order is judged only where it means something: for keys whose values are the same
set in both (a replay without --shift-ids), the order-sensitive digests must be equal.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from hdrh.histogram import HdrHistogram

from chaosbus.traffic.records import TrafficRecord

MAX_GAP_MS = 24 * 3600 * 1000
MAX_VALUE_BYTES = 256 * 1024 * 1024
PERCENTILES = (50.0, 90.0, 99.0)


@dataclass(frozen=True)
class Tolerance:
    absolute: float
    relative: float

    def allows(self, reference: float, candidate: float) -> bool:
        return abs(candidate - reference) <= max(self.absolute, self.relative * abs(reference))

    def describe(self) -> str:
        if not self.absolute and not self.relative:
            return "exact"
        parts = [f"±{self.absolute:g}"] if self.absolute else []
        if self.relative:
            parts.append(f"±{self.relative:.0%}")
        return " or ".join(parts)


# What a replay at x1 of the same file must keep (decision 0263 says why each).
TOLERANCES: dict[str, Tolerance] = {
    "records": Tolerance(0, 0),
    "keys": Tolerance(0, 0),
    "events per key p50": Tolerance(0, 0),
    "events per key p90": Tolerance(0, 0),
    "events per key max": Tolerance(0, 0),
    "duration s": Tolerance(0.1, 0.02),
    "rate per second, worst bin": Tolerance(5, 0.10),
    "inter-arrival ms p50": Tolerance(3, 0.10),
    "inter-arrival ms p90": Tolerance(10, 0.15),
    "inter-arrival ms p99": Tolerance(30, 0.25),
    "value bytes p50": Tolerance(0, 0.02),
    "value bytes p99": Tolerance(0, 0.02),
}


@dataclass
class TrafficStats:
    records: int = 0
    first_ms: int | None = None
    last_ms: int | None = None
    per_second: list[int] = field(default_factory=list)
    per_key: dict[bytes, int] = field(default_factory=dict)
    gaps: HdrHistogram = field(default_factory=lambda: HdrHistogram(1, MAX_GAP_MS, 3))
    sizes: HdrHistogram = field(default_factory=lambda: HdrHistogram(1, MAX_VALUE_BYTES, 3))
    order: dict[bytes, bytes] = field(default_factory=dict)  # key → chained digest
    content: dict[bytes, int] = field(default_factory=dict)  # key → sum of value digests

    @property
    def duration_s(self) -> float:
        if self.first_ms is None or self.last_ms is None:
            return 0.0
        return (self.last_ms - self.first_ms) / 1000

    def gap(self, percentile: float) -> int:
        return int(self.gaps.get_value_at_percentile(percentile)) if self.records > 1 else 0

    def size(self, percentile: float) -> int:
        return int(self.sizes.get_value_at_percentile(percentile)) if self.records else 0

    def per_key_count(self, percentile: float) -> int:
        counts = sorted(self.per_key.values())
        if not counts:
            return 0
        index = min(len(counts) - 1, max(0, round(percentile / 100 * len(counts) + 0.5) - 1))
        return counts[index]

    def metrics(self) -> dict[str, float]:
        """Every metric `TOLERANCES` names, except the per-second rate (compared by bin)."""
        values: dict[str, float] = {
            "records": self.records,
            "keys": len(self.per_key),
            "events per key p50": self.per_key_count(50),
            "events per key p90": self.per_key_count(90),
            "events per key max": max(self.per_key.values(), default=0),
            "duration s": round(self.duration_s, 3),
        }
        for p in PERCENTILES:
            values[f"inter-arrival ms p{p:g}"] = self.gap(p)
        values["value bytes p50"] = self.size(50)
        values["value bytes p99"] = self.size(99)
        return values


def traffic_stats(records: Iterable[TrafficRecord]) -> TrafficStats:
    stats = TrafficStats()
    previous: int | None = None
    for record in records:
        stamp = record.timestamp_ms
        if stats.first_ms is None:
            stats.first_ms = stamp
        stats.last_ms = stamp
        stats.records += 1
        second = max(0, (stamp - stats.first_ms) // 1000)
        if second >= len(stats.per_second):
            stats.per_second.extend([0] * (second + 1 - len(stats.per_second)))
        stats.per_second[second] += 1
        if previous is not None:
            stats.gaps.record_value(min(max(stamp - previous, 0), MAX_GAP_MS))
        previous = stamp
        stats.sizes.record_value(min(len(record.value or b""), MAX_VALUE_BYTES))
        _per_key(stats, record)
    return stats


def _per_key(stats: TrafficStats, record: TrafficRecord) -> None:
    key = b"\x00" if record.key is None else b"\x01" + record.key
    stats.per_key[key] = stats.per_key.get(key, 0) + 1
    digest = hashlib.blake2b(record.value or b"\x00null", digest_size=16).digest()
    chained = stats.order.get(key, b"")
    stats.order[key] = hashlib.blake2b(chained + digest, digest_size=16).digest()
    # An order-free digest: the sum of the values' digests, modulo 2**128.
    stats.content[key] = (stats.content.get(key, 0) + int.from_bytes(digest, "big")) % (1 << 128)


@dataclass(frozen=True)
class Row:
    metric: str
    reference: str
    candidate: str
    tolerance: str
    ok: bool | None  # None: not judged (nothing to compare it with)


@dataclass(frozen=True)
class Comparison:
    rows: tuple[Row, ...]

    @property
    def within(self) -> bool:
        return all(row.ok is not False for row in self.rows)

    def lines(self, reference: str = "reference", candidate: str = "candidate") -> list[str]:
        """A table: metric, the two values, ok or OUTSIDE, the tolerance."""
        head = Row("metric", reference, candidate, "tolerance", None)
        rows = (head, *self.rows)
        metric_w = max(len(r.metric) for r in rows)
        ref_w = max(len(r.reference) for r in rows)
        cand_w = max(len(r.candidate) for r in rows)
        out = []
        for r in rows:
            mark = "" if r is head else {True: "ok", False: "OUTSIDE", None: "-"}[r.ok]
            out.append(
                f"{r.metric:<{metric_w}}  {r.reference:>{ref_w}}  {r.candidate:>{cand_w}}"
                f"  {mark:<7}  {r.tolerance}"
            )
        return out


def compare(reference: TrafficStats, candidate: TrafficStats) -> Comparison:
    ref, cand = reference.metrics(), candidate.metrics()
    rows = [
        Row(
            name,
            _number(ref[name]),
            _number(cand[name]),
            TOLERANCES[name].describe(),
            TOLERANCES[name].allows(ref[name], cand[name]),
        )
        for name in ref
    ]
    rows.insert(6, _rate_row(reference, candidate))
    rows.append(_order_row(reference, candidate))
    return Comparison(tuple(rows))


def _rate_row(reference: TrafficStats, candidate: TrafficStats) -> Row:
    """The one-second bin where the two rates differ most beyond the tolerance."""
    tolerance = TOLERANCES["rate per second, worst bin"]
    bins = max(len(reference.per_second), len(candidate.per_second))
    if not bins:
        return Row("rate per second, worst bin", "-", "-", tolerance.describe(), None)

    def excess(second: int) -> tuple[float, int, int, int]:
        r = reference.per_second[second] if second < len(reference.per_second) else 0
        c = candidate.per_second[second] if second < len(candidate.per_second) else 0
        return abs(c - r) - max(tolerance.absolute, tolerance.relative * r), second, r, c

    _, second, r, c = max(excess(s) for s in range(bins))
    return Row(
        f"rate per second, worst bin (s {second})",
        str(r),
        str(c),
        tolerance.describe(),
        tolerance.allows(r, c),
    )


def _order_row(reference: TrafficStats, candidate: TrafficStats) -> Row:
    same_content = [
        k for k, digest in reference.content.items() if candidate.content.get(k) == digest
    ]
    if not same_content:
        return Row("per-key order", "-", "no key with the same values", "exact", None)
    kept = sum(reference.order[k] == candidate.order[k] for k in same_content)
    return Row(
        "per-key order",
        f"{len(same_content)} keys",
        f"{kept} kept",
        "exact",
        kept == len(same_content),
    )


def _number(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) and not value.is_integer() else f"{value:.0f}"
