"""The once model and its checker: exactly one effect per source event."""

from __future__ import annotations

from chaosbus.monitors import LiveChecker, MonitorConfig, MonitorReport, check
from chaosbus.monitors.models.once import expected_effects
from chaosbus.monitors.testing import HistoryBuilder

CONFIG = MonitorConfig(source_topic="orders", model="once", settle_ms=1_000)


def run(h: HistoryBuilder, horizon_ms: int | None = None) -> MonitorReport:
    return check(h.build(), CONFIG, horizon_ms=horizon_ms)


def bad(report: MonitorReport) -> dict[str, int]:
    return {name: n for name, n in report.anomalies.counts.items() if n}


class TestOnce:
    def test_model_expects_one_effect_per_kept_event(self) -> None:
        """Every distinct event id not skipped expects exactly one effect."""
        h = HistoryBuilder()
        kept = h.event("a")
        skipped = h.event("a")
        assert expected_effects(h.sources, skip={skipped.event_id}) == {kept.event_id: 1}

    def test_one_effect_each_under_duplicates_is_clean(self) -> None:
        """Duplicated deliveries deduplicated by the service: no anomaly."""
        h = HistoryBuilder()
        for _ in range(3):
            h.effect(h.event("a", fault="duplicate"))
        assert bad(run(h)) == {}

    def test_two_effects_is_duplicate_and_not_unrecovered(self) -> None:
        """A second effect is a duplicate; effects are history, so not unrecovered."""
        h = HistoryBuilder()
        event = h.event("a", fault="duplicate")
        h.effect(event)
        h.effect(event)
        assert bad(run(h)) == {"duplicate_effect": 1}

    def test_no_effect_is_lost_and_unrecovered(self) -> None:
        """A delivered event without effect is lost, still missing at the end."""
        h = HistoryBuilder()
        h.event("a")
        assert bad(run(h)) == {"lost_event": 1, "unrecovered": 1}

    def test_drops_expected_and_reconciled(self) -> None:
        """A dropped event without effect is expected; one with an effect is reconciled."""
        h = HistoryBuilder()
        h.event("a", fault="drop")
        h.effect(h.event("a", fault="drop"))
        assert bad(run(h)) == {"dropped_expected": 1, "dropped_reconciled": 1}

    def test_effect_for_unknown_event_is_divergent(self) -> None:
        """An effect naming an id the source never carried is divergent, and an orphan."""
        h = HistoryBuilder()
        h.effect("ghost")
        report = run(h)
        assert bad(report) == {"divergent_entity": 1}
        assert report.coverage.orphan_effects == 1

    def test_unsettled_event_without_effect_is_pending(self) -> None:
        """Before its settle time at the horizon, a missing effect is not yet lost."""
        h = HistoryBuilder()
        h.event("a")
        report = run(h, horizon_ms=h.now_ms + 10)
        assert bad(report) == {}
        assert report.coverage.pending == 1
        assert bad(run(h, horizon_ms=h.now_ms + 5_000)) == {"lost_event": 1, "unrecovered": 1}


class TestBatchShortcut:
    def test_clean_units_shortcut_agrees_with_the_live_checker(self) -> None:
        """The batch checker's shortcut for clean one-effect units gives the live verdict."""
        h = HistoryBuilder()
        h.effect(h.event("a"))
        h.effect(h.event("a", fault="drop"))
        late = h.event("b")
        h.effect(late, at_ms=h.now_ms + 50_000)
        horizon = h.now_ms + 5_000
        live = LiveChecker(CONFIG)
        for event in h.sources:
            live.feed_source(event)
        for record in h.ledger:
            live.feed_ledger(record)
        for effect in h.effects:
            if effect.observed_at_ms <= horizon:
                live.feed_effect(effect)
        batch = run(h, horizon_ms=horizon)
        snapshot = live.snapshot(horizon)
        assert batch.anomalies.counts == snapshot.anomalies.counts
        assert batch.coverage == snapshot.coverage
        assert bad(batch) == {"lost_event": 1, "unrecovered": 1, "dropped_reconciled": 1}
