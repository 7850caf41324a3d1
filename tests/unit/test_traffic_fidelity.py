"""The fidelity report: exact figures for known traffic, tolerances that catch what they should."""

from __future__ import annotations

from chaosbus.traffic.fidelity import (
    TOLERANCES,
    Comparison,
    Row,
    Tolerance,
    compare,
    traffic_stats,
)
from chaosbus.traffic.records import TrafficRecord


def traffic(gaps_ms: list[int], keys: str = "abcab") -> list[TrafficRecord]:
    records, stamp = [], 10_000
    for i, gap in enumerate(gaps_ms):
        stamp += gap
        key = keys[i % len(keys)].encode()
        records.append(TrafficRecord(key, b"v%03d" % i, (), stamp))
    return records


def row(comparison: Comparison, prefix: str) -> Row:
    return next(r for r in comparison.rows if r.metric.startswith(prefix))


class TestStats:
    def test_figures_of_a_known_stream(self) -> None:
        """10 records 100 ms apart over keys a,b,c: every figure is what the input says."""
        stats = traffic_stats(traffic([0] + [100] * 9))
        metrics = stats.metrics()
        assert metrics["records"] == 10
        assert metrics["keys"] == 3
        assert (metrics["events per key p50"], metrics["events per key max"]) == (4, 4)
        assert metrics["duration s"] == 0.9
        assert metrics["inter-arrival ms p50"] == metrics["inter-arrival ms p99"] == 100
        assert metrics["value bytes p50"] == 4
        assert stats.per_second == [10]


class TestCompare:
    def test_a_copy_is_within_every_tolerance(self) -> None:
        """The same records compare equal on every row, per-key order kept for all keys."""
        records = traffic([0, 20, 30, 25, 500, 10, 10, 40])
        comparison = compare(traffic_stats(records), traffic_stats(records))
        assert comparison.within
        assert row(comparison, "per-key order").candidate == "3 kept"

    def test_one_swap_within_a_key_breaks_per_key_order(self) -> None:
        """Two events of key a exchanged: the order row fails, the counts still match."""
        records = traffic([0] + [100] * 9)
        swapped = list(records)
        swapped[0], swapped[3] = (
            records[3]._replace(timestamp_ms=records[0].timestamp_ms),
            records[0]._replace(timestamp_ms=records[3].timestamp_ms),
        )
        comparison = compare(traffic_stats(records), traffic_stats(swapped))
        order = row(comparison, "per-key order")
        assert (order.reference, order.candidate, order.ok) == ("3 keys", "2 kept", False)
        assert row(comparison, "records").ok

    def test_inter_arrival_outside_its_tolerance_is_flagged(self) -> None:
        """Gaps of 100 ms replayed at 130 ms: p50 off by 30 %, beyond ±10 %."""
        comparison = compare(
            traffic_stats(traffic([0] + [100] * 9)), traffic_stats(traffic([0] + [130] * 9))
        )
        assert not comparison.within
        assert row(comparison, "inter-arrival ms p50").ok is False

    def test_shifted_ids_leave_order_unjudged(self) -> None:
        """Other keys altogether: no key to judge order on, which is not a failure."""
        ids = traffic([0, 10, 10], keys="xyz")
        shifted = [r._replace(key=b"new-" + (r.key or b"")) for r in ids]
        order = row(compare(traffic_stats(ids), traffic_stats(shifted)), "per-key order")
        assert order.ok is None


class TestTolerance:
    def test_absolute_or_relative_whichever_is_larger(self) -> None:
        """±3 ms or ±10 %: 4 ms off at 10 ms fails, 4 ms off at 50 ms passes."""
        tolerance = Tolerance(3, 0.10)
        assert not tolerance.allows(10, 14)
        assert tolerance.allows(50, 54)
        assert tolerance.describe() == "±3 or ±10%"

    def test_every_metric_has_a_tolerance(self) -> None:
        """No metric of the report goes without a stated tolerance."""
        metrics = traffic_stats(traffic([0, 1])).metrics()
        assert set(metrics) <= set(TOLERANCES)
