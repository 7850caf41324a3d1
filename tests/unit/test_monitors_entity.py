"""The entity model and its checker: highest version wins, deletes are tombstones."""

from __future__ import annotations

from chaosbus.monitors import MonitorConfig, MonitorReport, check
from chaosbus.monitors.models.entity import expected_state
from chaosbus.monitors.testing import HistoryBuilder

CONFIG = MonitorConfig(source_topic="orders", model="entity", settle_ms=1_000)
LATER = 60_000


def run(h: HistoryBuilder) -> MonitorReport:
    return check(h.build(), CONFIG)


def bad(report: MonitorReport) -> dict[str, int]:
    return {name: n for name, n in report.anomalies.counts.items() if n}


class TestModel:
    def test_delete_outranks_the_same_version(self) -> None:
        """A delete at version 2 beats a put at version 2, whatever the order."""
        h = HistoryBuilder()
        h.event("k", 2, delete=True)
        h.event("k", 2)
        state = expected_state(h.sources)
        assert state is not None
        assert state.deleted

    def test_bare_tombstone_deletes_everything_before_it(self) -> None:
        """A delete without a version takes the highest version seen before it."""
        h = HistoryBuilder()
        h.event("k", 5)
        h.event("k", None, delete=True)
        h.event("k", 4)
        state = expected_state(h.sources)
        assert state is not None
        assert state.deleted
        assert state.version == 5

    def test_skip_leaves_out_dropped_events(self) -> None:
        """The expected state can be computed without given event ids."""
        h = HistoryBuilder()
        h.event("k", 1)
        newest = h.event("k", 2)
        state = expected_state(h.sources, skip={newest.event_id})
        assert state is not None
        assert state.version == 1


class TestClean:
    def test_version_aware_service_under_duplicates_and_reorders_is_clean(self) -> None:
        """Duplicated and reordered deliveries, applied idempotently by version: no anomaly."""
        h = HistoryBuilder()
        h.event("a", 1, fault="duplicate")
        h.event("a", 3, fault="reorder")
        h.event("a", 2, fault="duplicate")
        h.event("b", 1)
        h.event("b", 2, delete=True, fault="duplicate")
        h.observe("a", 1, at_ms=h.now_ms)
        h.observe("a", 3, at_ms=h.now_ms + LATER)
        h.observe("b", None, at_ms=h.now_ms + LATER)
        report = run(h)
        assert bad(report) == {}
        assert report.anomalies.clean
        assert report.coverage.judged == 2


class TestAnomalies:
    def test_older_version_observed_is_stale_overwrite(self) -> None:
        """The final state holds v1 while v2 was delivered."""
        h = HistoryBuilder()
        h.event("a", 1)
        h.event("a", 2)
        h.observe("a", 1, at_ms=h.now_ms + LATER)
        assert bad(run(h)) == {"stale_overwrite": 1, "unrecovered": 1}

    def test_version_going_down_in_the_series_is_stale_even_if_repaired(self) -> None:
        """v2 then v1 then v2 again: a transient stale overwrite, not unrecovered."""
        h = HistoryBuilder()
        h.event("a", 1)
        h.event("a", 2)
        for at, value in ((1, 2), (2, 1), (3, 2)):
            h.observe("a", value, at_ms=h.now_ms + at * LATER)
        assert bad(run(h)) == {"stale_overwrite": 1}

    def test_effect_of_older_version_after_newer_is_stale(self) -> None:
        """An effects history applying v1 after v2 is a stale overwrite."""
        h = HistoryBuilder()
        v1 = h.event("a", 1)
        v2 = h.event("a", 2)
        h.effect(v2, at_ms=h.now_ms + 1)
        h.effect(v1, at_ms=h.now_ms + 2)
        h.observe("a", 2, at_ms=h.now_ms + LATER)
        report = run(h)
        assert bad(report) == {"stale_overwrite": 1}
        assert report.anomalies.examples["stale_overwrite"][0].event_ids == (
            v1.event_id,
            v2.event_id,
        )

    def test_deleted_entity_present_is_resurrected(self) -> None:
        """A delete in the source, the entity still present downstream."""
        h = HistoryBuilder()
        h.event("a", 1)
        h.event("a", 2, delete=True)
        h.observe("a", 1, at_ms=h.now_ms + LATER)
        assert bad(run(h)) == {"resurrected": 1, "unrecovered": 1}

    def test_absent_without_delete_is_lost(self) -> None:
        """A delivered create that never appears downstream is a lost event."""
        h = HistoryBuilder()
        h.event("a", 1)
        h.observe("a", None, at_ms=h.now_ms + LATER)
        assert bad(run(h)) == {"lost_event": 1, "unrecovered": 1}

    def test_version_the_source_never_had_is_divergent(self) -> None:
        """A version no event carried is divergence, not staleness."""
        h = HistoryBuilder()
        h.event("a", 1)
        h.observe("a", 99, at_ms=h.now_ms + LATER)
        assert bad(run(h)) == {"divergent_entity": 1, "unrecovered": 1}

    def test_duplicate_effects_are_counted(self) -> None:
        """One event with two effects is a duplicate effect."""
        h = HistoryBuilder()
        v1 = h.event("a", 1)
        h.effect(v1)
        h.effect(v1)
        h.observe("a", 1, at_ms=h.now_ms + LATER)
        assert bad(run(h)) == {"duplicate_effect": 1}

    def test_one_bad_entity_counts_once_under_the_most_specific_name(self) -> None:
        """Resurrected and duplicated at once: counted as resurrected only."""
        h = HistoryBuilder()
        v1 = h.event("a", 1)
        h.event("a", 2, delete=True)
        h.effect(v1)
        h.effect(v1)
        h.observe("a", 1, at_ms=h.now_ms + LATER)
        report = run(h)
        assert bad(report) == {"resurrected": 1, "unrecovered": 1}
        assert report.anomalies.total == 1


class TestDrops:
    def test_dropped_newest_version_is_expected_missing(self) -> None:
        """The ledger dropped v2: holding v1 is correct and v2 counts as dropped_expected."""
        h = HistoryBuilder()
        h.event("a", 1)
        h.event("a", 2, fault="drop")
        h.observe("a", 1, at_ms=h.now_ms + LATER)
        assert bad(run(h)) == {"dropped_expected": 1}

    def test_dropped_version_applied_anyway_is_reconciled(self) -> None:
        """The ledger dropped v2, yet downstream holds v2: reconciled, not an anomaly."""
        h = HistoryBuilder()
        h.event("a", 1)
        h.event("a", 2, fault="drop")
        h.observe("a", 2, at_ms=h.now_ms + LATER)
        assert bad(run(h)) == {"dropped_reconciled": 1}

    def test_event_counts_as_dropped_only_if_every_delivery_was(self) -> None:
        """A source redelivery that passed makes the event expected again."""
        h = HistoryBuilder()
        v1 = h.event("a", 1, fault="drop")
        h.redeliver(v1)
        h.observe("a", None, at_ms=h.now_ms + LATER)
        assert bad(run(h)) == {"lost_event": 1, "unrecovered": 1}


class TestSettling:
    def test_observation_before_settling_is_pending(self) -> None:
        """State read before the settle time is not judged."""
        h = HistoryBuilder()
        h.event("a", 1)
        h.observe("a", None, at_ms=h.now_ms + 10)
        report = run(h)
        assert bad(report) == {}
        assert report.coverage.pending == 1

    def test_delay_moves_the_settle_time(self) -> None:
        """An emission the ledger delayed is due only when it was sent."""
        h = HistoryBuilder()
        h.event("a", 1, fault="delay", delay_ms=30_000)
        h.observe("a", None, at_ms=h.now_ms + 20_000)
        assert run(h).coverage.pending == 1

    def test_entity_without_observation_is_unobserved(self) -> None:
        """No probe reading for an entity: reported in coverage, never called clean or bad."""
        h = HistoryBuilder()
        h.event("a", 1)
        report = run(h)
        assert report.coverage.unobserved == 1
        assert report.coverage.judged == 0
