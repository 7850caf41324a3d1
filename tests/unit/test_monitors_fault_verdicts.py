"""What the verdict makes of corrupt, schema_drift, replay, outage (issue 13) and stall
deliveries."""

from __future__ import annotations

import pytest

from chaosbus.monitors import LiveChecker, MonitorConfig, MonitorReport, check
from chaosbus.monitors.index import is_garbage
from chaosbus.monitors.testing import HistoryBuilder

LATER = 60_000
POISON = (None, "corrupt:non_json")  # mode extra: the intact original, then the garbage
DRIFTED = (None, "schema_drift:rename:version")
REPLACED = ("corrupt:truncate",)  # mode replace: only the garbage copy


def run(h: HistoryBuilder, model: str) -> MonitorReport:
    return check(h.build(), MonitorConfig(source_topic=h.topic, model=model, settle_ms=1_000))  # type: ignore[arg-type]


def counts(report: MonitorReport) -> dict[str, int]:
    return {name: n for name, n in report.anomalies.counts.items() if n}


class TestGarbageVariants:
    def test_damaged_and_drifted_copies_are_garbage_replays_are_not(self) -> None:
        """Only corrupt and schema_drift variants name copies a service must skip."""
        assert is_garbage("corrupt:flip")
        assert is_garbage("schema_drift:retype:total")
        assert not is_garbage("replay")
        assert not is_garbage(None)
        assert not is_garbage("schema_drift:not_json")  # the source's own bytes


class TestReplaceMode:
    def test_entity_missing_a_corrupted_update_is_corrupted_expected(self) -> None:
        """A version sent only as garbage is expected missing, counted apart from drops."""
        h = HistoryBuilder()
        h.event("o1", 1)
        h.event("o1", 2, fault="corrupt", variants=REPLACED)
        h.event("o1", 3, fault="drop")
        h.observe("o1", 1, at_ms=h.now_ms + LATER)
        assert counts(run(h, "entity")) == {"corrupted_expected": 1, "dropped_expected": 1}

    def test_entity_that_read_through_the_damage_is_corrupted_reconciled(self) -> None:
        """Showing the corrupted event's version is not an error: it reconciled."""
        h = HistoryBuilder()
        h.event("o1", 1)
        h.event("o1", 2, fault="schema_drift", variants=("schema_drift:extra:x",))
        h.observe("o1", 2, at_ms=h.now_ms + LATER)
        assert counts(run(h, "entity")) == {"corrupted_reconciled": 1}

    def test_counter_splits_corrupted_from_dropped(self) -> None:
        """Three missing payments: one applied anyway; each counted under its own cause."""
        h = HistoryBuilder()
        h.event("c1", amount=10)
        h.event("c1", amount=7, fault="corrupt", variants=REPLACED)
        h.event("c1", amount=5, fault="corrupt", variants=REPLACED)
        h.event("c1", amount=3, fault="drop")
        h.observe("c1", 15, at_ms=h.now_ms + LATER)  # 10 + the 5 read through
        assert counts(run(h, "counter")) == {
            "corrupted_expected": 1,
            "corrupted_reconciled": 1,
            "dropped_expected": 1,
        }

    def test_once_without_effect_for_a_corrupted_event_is_expected(self) -> None:
        """The once model: a corrupted event with no effect is no lost_event."""
        h = HistoryBuilder()
        ok = h.event("x", fault="pass")
        h.effect(ok)
        h.event("y", fault="corrupt", variants=REPLACED)
        read = h.event("z", fault="corrupt", variants=REPLACED)
        h.effect(read)
        assert counts(run(h, "once")) == {"corrupted_expected": 1, "corrupted_reconciled": 1}


class TestExtraMode:
    def test_skipping_the_garbage_copy_is_clean(self) -> None:
        """The intact original applied and the copy skipped: nothing to report."""
        h = HistoryBuilder()
        h.event("o1", 1)
        h.event("o1", 2, fault="corrupt", variants=POISON)
        h.observe("o1", 2, at_ms=h.now_ms + LATER)
        assert counts(run(h, "entity")) == {}
        c = HistoryBuilder()
        c.event("c1", amount=4, fault="schema_drift", variants=DRIFTED)
        c.observe("c1", 4, at_ms=c.now_ms + LATER)
        assert counts(run(c, "counter")) == {}

    def test_entity_holding_a_version_no_event_has_applied_garbage(self) -> None:
        """The drifted copy lost its version and the service stored a 0: applied_garbage."""
        h = HistoryBuilder()
        h.event("o1", 1)
        h.event("o1", 2, fault="schema_drift", variants=DRIFTED)
        h.observe("o1", 2, at_ms=h.now_ms + 5)
        h.observe("o1", 0, at_ms=h.now_ms + LATER)
        h.event("o2", 1)
        h.observe("o2", 7, at_ms=h.now_ms + LATER)  # no garbage copy: plain divergence
        report = run(h, "entity")
        assert counts(report) == {"applied_garbage": 1, "divergent_entity": 1, "unrecovered": 2}
        assert report.anomalies.examples["applied_garbage"][0].unit == "o1"

    def test_a_deletes_drifted_copy_read_as_an_update_is_applied_garbage(self) -> None:
        """The cancel's copy with an unknown type put its version back: not resurrected."""
        h = HistoryBuilder()
        h.event("o1", 1)
        h.event(
            "o1", 2, delete=True, fault="schema_drift", variants=(None, "schema_drift:enum:type")
        )
        h.observe("o1", 2, at_ms=h.now_ms + LATER)
        h.event("o2", 1)
        h.event(
            "o2", 2, delete=True, fault="schema_drift", variants=(None, "schema_drift:enum:type")
        )
        h.observe("o2", 1, at_ms=h.now_ms + LATER)  # an older version back: no copy makes that
        h.event("o3", 1)
        h.event("o3", 2, delete=True, fault="schema_drift", variants=DRIFTED)
        h.observe("o3", 0, at_ms=h.now_ms + LATER)  # the copy lost its type and its version
        report = run(h, "entity")
        assert counts(report) == {"applied_garbage": 2, "resurrected": 1, "unrecovered": 3}
        garbage = report.anomalies.examples["applied_garbage"]
        assert [example.unit for example in garbage] == ["o1", "o3"]

    def test_counter_with_a_garbage_copys_amount_added_is_applied_garbage(self) -> None:
        """A surplus of exactly the drifted payment's amount: applied_garbage, not a duplicate."""
        h = HistoryBuilder()
        h.event("c1", amount=10)
        drifted = h.event("c1", amount=7, fault="schema_drift", variants=DRIFTED)
        h.observe("c1", 24, at_ms=h.now_ms + LATER)
        h.event("c2", amount=3, fault="duplicate")
        h.observe("c2", 6, at_ms=h.now_ms + LATER)
        report = run(h, "counter")
        assert counts(report) == {"applied_garbage": 1, "duplicate_effect": 1, "unrecovered": 2}
        example = report.anomalies.examples["applied_garbage"][0]
        assert (example.event_ids, example.expected, example.observed) == (
            (drifted.event_id,),
            17,
            24,
        )

    def test_counter_surplus_no_garbage_amount_explains_stays_a_duplicate(self) -> None:
        """A garbage copy on the key does not excuse a surplus its amount does not make."""
        h = HistoryBuilder()
        h.event("c1", amount=10, fault="duplicate")
        h.event("c1", amount=7, fault="corrupt", variants=POISON)
        h.observe("c1", 27, at_ms=h.now_ms + LATER)
        assert counts(run(h, "counter")) == {"duplicate_effect": 1, "unrecovered": 1}

    def test_once_second_effect_of_a_garbage_copied_event_is_applied_garbage(self) -> None:
        """Two effects for an event whose only extra delivery was garbage."""
        h = HistoryBuilder()
        poisoned = h.event("x", fault="corrupt", variants=POISON)
        h.effect(poisoned)
        h.effect(poisoned)
        retried = h.event("y", fault="duplicate")
        h.effect(retried)
        h.effect(retried)
        assert counts(run(h, "once")) == {"applied_garbage": 1, "duplicate_effect": 1}


class TestReplay:
    def test_counter_applying_the_replay_is_duplicate_effect(self) -> None:
        """The replay is an intact copy delivered late: adding it again is a duplicate."""
        h = HistoryBuilder()
        h.event("c1", amount=5, fault="replay", later_ms=20_000)
        h.event("c1", amount=2)
        h.observe("c1", 12, at_ms=h.now_ms + LATER)
        h.event("c2", amount=4, fault="replay", later_ms=20_000)
        h.observe("c2", 4, at_ms=h.now_ms + LATER)
        assert counts(run(h, "counter")) == {"duplicate_effect": 1, "unrecovered": 1}

    def test_entity_overwritten_by_the_late_replay_is_stale_overwrite(self) -> None:
        """v1 replayed after v2 was applied, and the service took it: stale_overwrite."""
        h = HistoryBuilder()
        h.event("o1", 1, fault="replay", later_ms=20_000)
        h.event("o1", 2)
        h.observe("o1", 2, at_ms=h.now_ms + 100)
        h.observe("o1", 1, at_ms=h.now_ms + LATER)
        h.event("o2", 1, fault="replay", later_ms=20_000)
        h.event("o2", 2)
        h.observe("o2", 2, at_ms=h.now_ms + LATER)
        report = run(h, "entity")
        assert counts(report) == {"stale_overwrite": 1, "unrecovered": 1}
        assert report.anomalies.examples["stale_overwrite"][0].unit == "o1"

    def test_replay_settles_after_the_late_copy(self) -> None:
        """The unit is judged only once the replay was sent: a look before it is pending."""
        h = HistoryBuilder()
        h.event("o1", 1, fault="replay", later_ms=20_000)
        h.observe("o1", 1, at_ms=h.now_ms + 5_000)  # the replay is still to come
        report = run(h, "entity")
        assert (report.coverage.pending, report.coverage.judged) == (1, 0)

    def test_once_effect_of_the_replay_is_duplicate_effect(self) -> None:
        """A once-only effect produced again by the replay."""
        h = HistoryBuilder()
        replayed = h.event("x", fault="replay", later_ms=20_000)
        h.effect(replayed)
        h.effect(replayed, at_ms=h.now_ms + 20_000)
        assert counts(run(h, "once")) == {"duplicate_effect": 1}


class TestOutage:
    def test_held_then_released_copies_are_judged_after_release(self) -> None:
        """Held 15 s then released: judged from the release on, clean when applied."""
        h = HistoryBuilder()
        h.event("o1", 1, fault="outage", delay_ms=15_000)
        h.event("o1", 2, fault="outage", delay_ms=14_990)
        h.observe("o1", None, at_ms=h.now_ms + 5_000)  # nothing yet: the outage holds them
        h.observe("o1", 2, at_ms=h.now_ms + LATER)
        assert counts(run(h, "entity")) == {}
        c = HistoryBuilder()
        c.event("c1", amount=5, fault="outage", delay_ms=15_000)
        c.observe("c1", 0, at_ms=c.now_ms + 5_000)
        c.observe("c1", 5, at_ms=c.now_ms + LATER)
        assert counts(run(c, "counter")) == {}


class TestStall:
    def test_a_correct_service_holds_and_the_stall_shows_as_latency(self) -> None:
        """Five versions held 10 s by a stall, released in order and applied: no anomaly,
        an empty view while it lasts, and a latency of the stall's length."""
        h = HistoryBuilder(step_ms=10)
        for version in range(1, 6):
            h.event("o1", version, fault="stall", delay_ms=10_000 - 10 * (version - 1))
        stalled_at = h.now_ms
        h.observe("o1", None, at_ms=stalled_at + 5_000)  # the shard is stuck: nothing yet
        h.observe("o1", 5, at_ms=stalled_at + 9_970)  # released at once, the newest applied
        h.observe("o1", 5, at_ms=stalled_at + LATER)
        report = run(h, "entity")
        assert counts(report) == {}
        assert report.anomalies.total == 0
        assert (report.coverage.judged, report.coverage.pending) == (1, 0)
        assert report.metrics.latency_ms.count == 1
        # v5 first seen 9,970 ms after it was read, to the histogram's 3 significant digits.
        assert report.metrics.latency_ms.p99 == pytest.approx(9_970, rel=1e-3)

    def test_a_service_that_loses_the_backlog_is_caught(self) -> None:
        """Held counter events the service never applies after release: the unit is missing
        them and never recovers, however late the view is read."""
        h = HistoryBuilder()
        for amount in (3, 4):
            h.event("c1", amount=amount, fault="stall", delay_ms=8_000)
        h.observe("c1", 0, at_ms=h.now_ms + LATER)
        assert counts(run(h, "counter")) == {"lost_event": 1, "unrecovered": 1}


class TestLiveAgreesWithBatch:
    def test_late_ledger_records_give_the_batch_verdict(self) -> None:
        """Sources first, ledger after (the live order): the same garbage/corrupted counts."""
        h = HistoryBuilder()
        h.event("c1", amount=10)
        h.event("c1", amount=7, fault="schema_drift", variants=DRIFTED)
        h.event("c1", amount=5, fault="corrupt", variants=REPLACED)
        h.observe("c1", 24, at_ms=h.now_ms + LATER)
        h.event("c2", amount=2, fault="corrupt", variants=REPLACED)
        h.observe("c2", 0, at_ms=h.now_ms + LATER)
        history = h.build()
        live = LiveChecker(MonitorConfig(source_topic=h.topic, model="counter", settle_ms=1_000))
        for event in history.sources:
            live.feed_source(event)
        for record in history.ledger:
            live.feed_ledger(record)
        for observation in history.observations:
            live.feed_observation(observation)
        report = live.snapshot(h.now_ms + 2 * LATER)
        assert report.anomalies.counts == run(h, "counter").anomalies.counts
        assert counts(report) == {"applied_garbage": 1, "corrupted_expected": 2, "unrecovered": 1}
