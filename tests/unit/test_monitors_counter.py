"""The counter model and its checker: a sum over distinct events."""

from __future__ import annotations

from chaosbus.monitors import MonitorConfig, MonitorReport, check
from chaosbus.monitors.models.counter import expected_total, reconciled_count
from chaosbus.monitors.testing import HistoryBuilder

CONFIG = MonitorConfig(source_topic="orders", model="counter", settle_ms=1_000)
LATER = 60_000


def run(h: HistoryBuilder) -> MonitorReport:
    return check(h.build(), CONFIG)


def bad(report: MonitorReport) -> dict[str, int]:
    return {name: n for name, n in report.anomalies.counts.items() if n}


class TestModel:
    def test_sum_counts_each_event_id_once(self) -> None:
        """A redelivered event adds its amount once."""
        h = HistoryBuilder()
        first = h.event("a", amount=5)
        h.redeliver(first)
        h.event("a", amount=2.5)
        assert expected_total(h.sources) == 7.5

    def test_reconciled_count_finds_a_subset(self) -> None:
        """A surplus equal to some dropped amounts names how many were applied."""
        assert reconciled_count(5, [2, 5, 7]) == 1
        assert reconciled_count(14, [2, 5, 7]) == 3
        assert reconciled_count(0, [2]) == 0
        assert reconciled_count(1, [2, 5]) is None


class TestChecker:
    def test_idempotent_counter_under_duplicates_is_clean(self) -> None:
        """Duplicated deliveries and a source retry, counted once each: no anomaly."""
        h = HistoryBuilder()
        retried = h.event("a", amount=5, fault="duplicate")
        h.redeliver(retried, fault="duplicate")
        h.event("a", amount=3, fault="reorder")
        h.observe("a", 8, at_ms=h.now_ms + LATER)
        assert bad(run(h)) == {}

    def test_counter_above_its_sum_is_duplicate_effect(self) -> None:
        """A duplicate applied twice shows as a surplus, naming the likely event."""
        h = HistoryBuilder()
        twice = h.event("a", amount=5, fault="duplicate")
        h.event("a", amount=3)
        h.observe("a", 13, at_ms=h.now_ms + LATER)
        report = run(h)
        assert bad(report) == {"duplicate_effect": 1, "unrecovered": 1}
        example = report.anomalies.examples["duplicate_effect"][0]
        assert (example.event_ids, example.expected, example.observed) == ((twice.event_id,), 8, 13)

    def test_counter_below_its_sum_is_lost_event(self) -> None:
        """A delivered event that never added its amount."""
        h = HistoryBuilder()
        h.event("a", amount=5)
        h.event("a", amount=3)
        h.observe("a", 5, at_ms=h.now_ms + LATER)
        assert bad(run(h)) == {"lost_event": 1, "unrecovered": 1}

    def test_absent_counter_with_nothing_expected_is_clean(self) -> None:
        """An absent key reads as 0, which is right when every event was dropped."""
        h = HistoryBuilder()
        h.event("a", amount=5, fault="drop")
        h.observe("a", None, at_ms=h.now_ms + LATER)
        assert bad(run(h)) == {"dropped_expected": 1}

    def test_between_the_bounds_but_unexplained_is_divergent(self) -> None:
        """A value inside the drop range that no subset of drops explains."""
        h = HistoryBuilder()
        h.event("a", amount=10)
        h.event("a", amount=4, fault="drop")
        h.observe("a", 11, at_ms=h.now_ms + LATER)
        assert bad(run(h)) == {"divergent_entity": 1, "unrecovered": 1, "dropped_expected": 1}

    def test_some_drops_reconciled(self) -> None:
        """Two drops, one of them applied anyway: one reconciled, one expected."""
        h = HistoryBuilder()
        h.event("a", amount=10)
        h.event("a", amount=4, fault="drop")
        h.event("a", amount=7, fault="drop")
        h.observe("a", 17, at_ms=h.now_ms + LATER)
        assert bad(run(h)) == {"dropped_reconciled": 1, "dropped_expected": 1}

    def test_transient_overshoot_then_fixed_is_not_unrecovered(self) -> None:
        """A counter too high after settling, later corrected: duplicate, recovered."""
        h = HistoryBuilder()
        h.event("a", amount=5)
        h.observe("a", 10, at_ms=h.now_ms + LATER)
        h.observe("a", 5, at_ms=h.now_ms + 2 * LATER)
        assert bad(run(h)) == {"duplicate_effect": 1}
