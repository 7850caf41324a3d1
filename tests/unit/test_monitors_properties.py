"""Properties: a service whose state is the expected state is never accused of anything."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from chaosbus.monitors import PRECEDENCE, LiveChecker, MonitorConfig, MonitorReport, check
from chaosbus.monitors.history import SourceEvent
from chaosbus.monitors.testing import HistoryBuilder

FAULTS = st.sampled_from(["pass", "duplicate", "reorder", "delay", "drop"])
# (entity, version, delete, fault, redelivered with this fault or not)
EVENTS = st.lists(
    st.tuples(
        st.sampled_from("abcd"), st.integers(0, 20), st.booleans(), FAULTS, st.none() | FAULTS
    ),
    max_size=40,
)
LATER = 600_000
Spec = list[tuple[str, int, bool, str, str | None]]
Seen = list[tuple[str, int | None]]


def build(
    spec: Spec, *, amounts: bool = False
) -> tuple[HistoryBuilder, list[SourceEvent], set[str]]:
    """A history from the spec, its distinct events, and the ids every delivery dropped."""
    h = HistoryBuilder()
    events: list[SourceEvent] = []
    delivered: set[str] = set()
    for entity, version, delete, fault, again in spec:
        event = h.event(
            entity,
            version,
            delete=delete,
            fault=fault,
            delay_ms=500,
            amount=version if amounts else None,
        )
        events.append(event)
        if fault != "drop":
            delivered.add(event.event_id)
        if again is not None:
            h.redeliver(event, fault=again)
            if again != "drop":
                delivered.add(event.event_id)
    dropped = {e.event_id for e in events} - delivered
    return h, events, dropped


def anomalies(report: MonitorReport) -> dict[str, int]:
    return {
        name: report.anomalies.counts[name]
        for name in (*PRECEDENCE, "unrecovered")
        if report.anomalies.counts[name]
    }


class TestCorrectServiceIsClean:
    @settings(max_examples=150, deadline=None)
    @given(EVENTS)
    def test_entity_state_equal_to_expected_has_no_anomaly(self, spec: Spec) -> None:
        """Observing, per entity, the highest-ranked delivered event's state is clean."""
        h, events, dropped = build(spec)
        for entity in "abcd":
            kept = [e for e in events if e.entity == entity and e.event_id not in dropped]
            if kept:
                best = max(kept, key=lambda e: (e.version, e.is_delete))
                h.observe(entity, None if best.is_delete else best.version, at_ms=h.now_ms + LATER)
        config = MonitorConfig(source_topic="orders", model="entity", settle_ms=1_000)
        report = check(h.build(), config)
        assert anomalies(report) == {}
        counts = report.anomalies.counts
        judged_drops = {
            e.event_id
            for e in events
            if e.event_id in dropped
            and any(e.entity == k.entity and k.event_id not in dropped for k in events)
        }
        assert counts["dropped_expected"] + counts["dropped_reconciled"] == len(judged_drops)

    @settings(max_examples=150, deadline=None)
    @given(EVENTS)
    def test_counter_equal_to_the_distinct_sum_has_no_anomaly(self, spec: Spec) -> None:
        """Observing the sum over distinct delivered events is clean; drops all expected."""
        h, events, dropped = build(spec, amounts=True)
        for entity in "abcd":
            total = sum(
                e.amount or 0 for e in events if e.entity == entity and e.event_id not in dropped
            )
            h.observe(entity, total, at_ms=h.now_ms + LATER)
        config = MonitorConfig(source_topic="orders", model="counter", settle_ms=1_000)
        report = check(h.build(), config)
        assert anomalies(report) == {}
        counts = report.anomalies.counts
        assert counts["dropped_expected"] + counts["dropped_reconciled"] == len(dropped)

    @settings(max_examples=150, deadline=None)
    @given(EVENTS, st.booleans())
    def test_one_effect_per_delivered_event_has_no_anomaly(
        self, spec: Spec, reconcile: bool
    ) -> None:
        """Exactly one effect per delivered event (and optionally per dropped one) is clean."""
        h, events, dropped = build(spec)
        for event in events:
            if event.event_id not in dropped or reconcile:
                h.effect(event, at_ms=h.now_ms + 1)
        report = check(h.build(), MonitorConfig(source_topic="orders", model="once"))
        assert anomalies(report) == {}
        name = "dropped_reconciled" if reconcile else "dropped_expected"
        assert report.anomalies.counts[name] == len(dropped)


class TestLiveEqualsBatch:
    @settings(max_examples=100, deadline=None)
    @given(
        EVENTS,
        st.lists(st.tuples(st.sampled_from("abcd"), st.none() | st.integers(0, 20)), max_size=8),
    )
    def test_any_feed_order_gives_the_batch_counts(self, spec: Spec, seen: Seen) -> None:
        """Ledger first or last, the live snapshot over everything equals the batch verdict."""
        h, _, _ = build(spec)
        for i, (entity, value) in enumerate(seen):
            h.observe(entity, value, at_ms=h.now_ms + LATER + i)
        config = MonitorConfig(source_topic="orders", model="entity", settle_ms=1_000)
        live = LiveChecker(config)
        for event in h.sources:
            live.feed_source(event)
        for observation in h.observations:
            live.feed_observation(observation)
        for record in h.ledger:
            live.feed_ledger(record)
        horizon = h.now_ms + 2 * LATER
        snapshot = live.snapshot(horizon)
        assert (
            snapshot.anomalies.counts
            == check(h.build(), config, horizon_ms=horizon).anomalies.counts
        )
