"""The live checker: one fact at a time, same verdicts as the batch checker."""

from __future__ import annotations

from chaosbus.monitors import LiveChecker, MonitorConfig, check
from chaosbus.monitors.testing import HistoryBuilder

ENTITY = MonitorConfig(source_topic="orders", model="entity", settle_ms=1_000)


def bad(counts: dict[str, int]) -> dict[str, int]:
    return {name: n for name, n in counts.items() if n}


def sample() -> HistoryBuilder:
    h = HistoryBuilder()
    h.event("a", 1)
    h.event("a", 2, fault="duplicate")
    h.event("b", 1)
    h.event("b", 2, delete=True)
    h.event("c", 1, fault="drop")
    h.observe("a", 1, at_ms=h.now_ms + 60_000)
    h.observe("b", 1, at_ms=h.now_ms + 60_000)
    h.observe("c", None, at_ms=h.now_ms + 60_000)
    return h


class TestLive:
    def test_live_over_a_full_history_equals_batch(self) -> None:
        """Fed everything, a snapshot has the batch checker's counts and coverage."""
        h = sample()
        live = LiveChecker(ENTITY)
        for record in h.ledger:
            live.feed_ledger(record)
        for event in h.sources:
            live.feed_source(event)
        for observation in h.observations:
            live.feed_observation(observation)
        snapshot = live.snapshot(now_ms=h.now_ms + 120_000)
        batch = check(h.build(), ENTITY, horizon_ms=h.now_ms + 120_000)
        assert snapshot.anomalies.counts == batch.anomalies.counts
        assert snapshot.coverage == batch.coverage
        assert bad(snapshot.anomalies.counts) == {
            "stale_overwrite": 1,
            "resurrected": 1,
            "unrecovered": 2,
            "dropped_expected": 1,
        }

    def test_late_ledger_drop_turns_a_loss_into_an_expected_drop(self) -> None:
        """A drop recorded after the verdict re-judges the unit it concerns."""
        h = HistoryBuilder()
        event = h.event("a", 1, fault="drop")
        live = LiveChecker(ENTITY)
        live.feed_source(event)
        live.feed_observation(h.observe("a", None, at_ms=h.now_ms + 5_000))
        assert bad(live.snapshot(h.now_ms + 5_000).anomalies.counts) == {
            "lost_event": 1,
            "unrecovered": 1,
        }
        live.feed_ledger(h.ledger[0])
        assert bad(live.snapshot(h.now_ms + 5_000).anomalies.counts) == {"dropped_expected": 1}

    def test_once_event_goes_from_pending_to_lost_as_time_passes(self) -> None:
        """Without new facts, an effect not seen by the settle time becomes a loss."""
        h = HistoryBuilder()
        live = LiveChecker(MonitorConfig(source_topic="orders", model="once", settle_ms=1_000))
        live.feed_source(h.event("a"))
        early = live.snapshot(h.now_ms + 10)
        assert early.coverage.pending == 1
        assert early.anomalies.clean
        late = live.snapshot(h.now_ms + 2_000)
        assert late.anomalies.counts["lost_event"] == 1
        assert not late.anomalies.clean

    def test_effect_before_its_source_event_is_attributed_later(self) -> None:
        """An effect read before its source event counts once the event arrives."""
        h = HistoryBuilder()
        event = h.event("a", 1)
        live = LiveChecker(ENTITY)
        live.feed_effect(h.effect(event))
        live.feed_effect(h.effect(event))
        live.feed_source(event)
        counts = live.snapshot(h.now_ms + 5_000).anomalies.counts
        assert counts["duplicate_effect"] == 1

    def test_orphan_effects_are_counted_incrementally(self) -> None:
        """An effect stops being an orphan when its source event arrives; a ghost stays one."""
        h = HistoryBuilder()
        event = h.event("a", 1)
        live = LiveChecker(ENTITY)
        live.feed_effect(h.effect(event))
        live.feed_effect(h.effect("ghost"))
        assert live.snapshot(h.now_ms).coverage.orphan_effects == 2
        live.feed_source(event)
        coverage = live.snapshot(h.now_ms).coverage
        assert coverage.orphan_effects == 1
        assert coverage.events == 1


def mixed_history() -> tuple[HistoryBuilder, int]:
    """A duplicate, a drop, an event nobody saw, an orphan effect, an observation of an
    entity the source never named, and an event still settling at the horizon."""
    h = HistoryBuilder()
    a1 = h.event("a", 1)
    a2 = h.event("a", 2, fault="duplicate")
    h.event("b", 1, fault="drop")
    h.event("c", 1)
    h.effect("ghost", at_ms=h.now_ms)
    h.effect(a1)
    h.effect(a2)
    h.effect(a2)
    h.observe("a", 2, at_ms=h.now_ms + 5_000)
    h.observe("zz", 3, at_ms=h.now_ms + 5_000)
    h.now_ms += 5_000
    h.event("d", 1)
    return h, h.now_ms + 500


class TestOneCoverage:
    def test_batch_and_live_build_the_same_coverage_for_every_model(self) -> None:
        """The same history, fed whole to `check` and one fact at a time to a live
        snapshot at the same horizon, gives equal coverage and counts for every model;
        both count the 3 unparsable messages as source events and the orphan as a unit."""
        unparsable = {"event_id": 3}
        for model in ("entity", "counter", "once"):
            config = MonitorConfig(source_topic="orders", model=model, settle_ms=1_000)
            h, horizon = mixed_history()
            live = LiveChecker(config)
            for effect in h.effects:  # effects first: the orphan-before-source order
                live.feed_effect(effect)
            for record in h.ledger:
                live.feed_ledger(record)
            for event in h.sources:
                live.feed_source(event)
            for observation in h.observations:
                live.feed_observation(observation)
            snapshot = live.snapshot(horizon, unparsable)
            batch = check(h.build(), config, horizon_ms=horizon, unparsable=unparsable)
            assert snapshot.coverage == batch.coverage, model
            assert snapshot.anomalies.counts == batch.anomalies.counts, model
        once = batch.coverage
        assert (once.events, once.source_events, once.judged_share) == (5, 8, 4 / 7)
        assert (once.units, once.judged, once.pending, once.orphan_effects) == (6, 5, 1, 1)
        assert bad(batch.anomalies.counts) == {
            "duplicate_effect": 1,
            "lost_event": 1,
            "divergent_entity": 1,  # the orphan
            "unrecovered": 1,
            "dropped_expected": 1,
        }

    def test_an_orphan_effect_is_pending_until_it_settles(self) -> None:
        """A `once` effect whose source event has not been read is pending for
        `settle_ms`: its event arriving meanwhile makes it a clean unit; past that it is an
        orphan (`divergent_entity`), as in the batch verdict."""
        config = MonitorConfig(source_topic="orders", model="once", settle_ms=1_000)
        h = HistoryBuilder()
        event = h.event("a")
        late = LiveChecker(config)
        late.feed_effect(h.effect(event))
        early = late.snapshot(h.now_ms + 999)
        assert (early.coverage.pending, early.anomalies.clean) == (1, True)
        late.feed_source(event)
        late.feed_ledger(h.ledger[0])
        settled = late.snapshot(h.now_ms + 5_000)
        assert (settled.coverage.judged, settled.anomalies.clean) == (1, True)
        ghost = LiveChecker(config)
        ghost.feed_effect(h.effect("ghost", at_ms=h.now_ms))
        assert ghost.snapshot(h.now_ms + 999).anomalies.clean
        assert bad(ghost.snapshot(h.now_ms + 1_000).anomalies.counts) == {"divergent_entity": 1}
