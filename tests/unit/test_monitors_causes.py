"""Each anomaly example traced to the ledger decisions of its events, in one line."""

from __future__ import annotations

from chaosbus.injectors import INJECTORS, Told
from chaosbus.monitors import MonitorConfig, check
from chaosbus.monitors.causes import NO_FAULT, RANGE, REDELIVERED, Delivered, explain
from chaosbus.monitors.report import AnomalyExample
from chaosbus.monitors.testing import HistoryBuilder, ledger_record


def only_example(h: HistoryBuilder, model: str, name: str) -> AnomalyExample:
    report = check(h.build(), MonitorConfig(source_topic=h.topic, model=model))  # type: ignore[arg-type]
    (example,) = report.anomalies.examples[name]
    return example


class TestStaleOverwrite:
    def test_a_delayed_create_applied_after_its_updates(self) -> None:
        """v1 held 9 s by a named delay fault, v2-v5 first: the line says so, with the fault."""
        h = HistoryBuilder()
        h.event("o-1", 1, fault="delay", delay_ms=9_000, fault_name="slow-creates")
        for version in (2, 3, 4, 5):
            h.event("o-1", version)
        h.observe("o-1", 1, at_ms=h.now_ms + 30_000)
        example = only_example(h, "entity", "stale_overwrite")
        assert example.cause is not None
        assert example.cause.mechanism == (
            f"v2{RANGE}v5 delivered before v1 (v1 delayed 9.0 s by fault `slow-creates`); "
            "v1 applied last"
        )
        assert example.cause.faulted is True
        assert example.cause.at_ms == 1_010 + 9_000
        first = example.cause.decisions[0]
        assert (first.event_id, first.fault, first.fault_name, first.copy_number) == (
            "e1",
            "delay",
            "slow-creates",
            0,
        )
        assert (first.planned_delay_ms, first.actual_delay_ms, first.source) == (
            9_000,
            9_000,
            "orders:0:0",
        )
        assert [d.version for d in example.cause.decisions] == [1, 2, 3, 4, 5]

    def test_without_a_fault_the_bug_is_the_services_own(self) -> None:
        """In-order delivery, older version shown: no fault touched them, the line says so."""
        h = HistoryBuilder()
        h.event("o-1", 1)
        h.event("o-1", 2)
        h.observe("o-1", 1, at_ms=h.now_ms + 30_000)
        example = only_example(h, "entity", "stale_overwrite")
        assert example.cause is not None
        assert example.cause.mechanism == f"v1 delivered before v2, yet applied last; {NO_FAULT}"
        assert example.cause.faulted is False


class TestDuplicateEffect:
    def test_copies_of_a_duplicate_fault_each_applied(self) -> None:
        """Three copies of one event, three effects: the copies and the fault are named."""
        h = HistoryBuilder()
        event = h.event("o-1", event_id="e-17", fault="duplicate", copies=3, fault_name="retries")
        for _ in range(3):
            h.effect(event)
        example = only_example(h, "once", "duplicate_effect")
        assert example.cause is not None
        assert example.cause.mechanism == (
            f"event e-17 delivered 3 times (fault `retries`, copies 1{RANGE}2); "
            "the service applied each"
        )
        assert [d.copy_number for d in example.cause.decisions] == [0, 1, 2]

    def test_a_source_redelivery_without_a_fault(self) -> None:
        """The producer sent the event twice, no fault: the service's bug, not chaos."""
        h = HistoryBuilder()
        event = h.event("o-1", event_id="e-3")
        h.redeliver(event)
        h.effect(event)
        h.effect(event)
        example = only_example(h, "once", "duplicate_effect")
        assert example.cause is not None
        assert example.cause.mechanism == (
            f"event e-3 delivered 2 times (the source sent it 2 times); "
            f"the service applied each; {NO_FAULT}"
        )

    def test_a_crash_redelivery_is_named_not_blamed_on_chaos(self) -> None:
        """A pass decided again after an interposer restart: re-delivered, not a bug alone."""
        h = HistoryBuilder()
        event = h.event("o-1", event_id="e-3")
        h.redecide(event)
        h.effect(event)
        h.effect(event)
        example = only_example(h, "once", "duplicate_effect")
        assert example.cause is not None
        assert example.cause.mechanism == (
            f"event e-3 delivered 2 times; the service applied each; {REDELIVERED}"
        )
        assert example.cause.faulted is False
        assert [d.source for d in example.cause.decisions] == ["orders:0:0", "orders:0:0"]

    def test_a_duplicate_fault_decided_again_names_both(self) -> None:
        """A duplicate fault re-decided after a restart: 4 copies, the fault's one extra named."""
        h = HistoryBuilder()
        event = h.event("o-1", event_id="e-17", fault="duplicate", fault_name="retries")
        h.redecide(event)
        for _ in range(4):
            h.effect(event)
        example = only_example(h, "once", "duplicate_effect")
        assert example.cause is not None
        assert example.cause.mechanism == (
            f"event e-17 delivered 4 times (fault `retries`, copy 1, {REDELIVERED}); "
            "the service applied each"
        )
        assert example.cause.faulted is True


class TestLostAndResurrected:
    def test_a_delivered_event_never_applied(self) -> None:
        """A passed event with no effect is lost with no fault to blame."""
        h = HistoryBuilder()
        h.event("o-1", event_id="e-3")
        example = only_example(h, "once", "lost_event")
        assert example.cause is not None
        assert example.cause.mechanism == (
            f"event e-3 delivered once; the service never applied it; {NO_FAULT}"
        )

    def test_a_delayed_older_version_brings_a_deleted_entity_back(self) -> None:
        """v1 delayed past the delete at v2: the entity came back, the delay is named."""
        h = HistoryBuilder()
        h.event("o-1", 1, fault="delay", delay_ms=5_000, fault_name="slow")
        h.event("o-1", 2, delete=True)
        h.observe("o-1", 1, at_ms=h.now_ms + 30_000)
        example = only_example(h, "entity", "resurrected")
        assert example.cause is not None
        assert example.cause.mechanism == (
            "v1 delivered after deleted@v2 (v1 delayed 5.0 s by fault `slow`); the entity came back"
        )


class TestFaultSentences:
    def test_a_stalled_event_never_applied(self) -> None:
        """An event held by a stall and then lost by the service: the stall is named."""
        h = HistoryBuilder()
        h.event("o-1", event_id="e-3", fault="stall", delay_ms=5_000, fault_name="shard-stuck")
        example = only_example(h, "once", "lost_event")
        assert example.cause is not None
        assert example.cause.mechanism == (
            "event e-3 delivered once (event e-3 held 5.0 s by fault `shard-stuck` "
            "(stalled partition)); the service never applied it"
        )
        assert example.cause.faulted is True

    def test_every_fault_explains_itself(self) -> None:
        """Each registered fault says in its own words what it did to an event."""
        told = Told(event="v7", by="fault `f`", late="1.0 s", copies="sent 2 times, copy 1")
        assert {name: entry.explain(told) for name, entry in INJECTORS.items()} == {
            "duplicate": "v7 sent 2 times, copy 1 by fault `f`",
            "reorder": "v7 held back 1.0 s by fault `f` (reorder)",
            "delay": "v7 delayed 1.0 s by fault `f`",
            "drop": "one delivery of v7 dropped by fault `f`",
            "corrupt": "v7 hit by fault `f` (corrupt)",
            "schema_drift": "v7 hit by fault `f` (schema_drift)",
            "replay": "v7 hit by fault `f` (replay)",
            "outage": "v7 hit by fault `f` (outage)",
            "stall": "v7 held 1.0 s by fault `f` (stalled partition)",
        }

    def test_a_fault_this_version_does_not_know_is_still_named(self) -> None:
        """A ledger from a chaosbus with another fault type: the generic sentence names it."""
        h = HistoryBuilder()
        event = h.event("o-1", event_id="e-3")
        record = ledger_record(event, fault="pass").model_copy(
            update={"fault": "meteor", "fault_name": "sky"}
        )
        cause = explain("lost_event", ("e-3",), None, None, [Delivered(event, (record,))],
                        versions=False)  # fmt: skip
        assert cause.mechanism == (
            "event e-3 delivered once (event e-3 hit by fault `sky` (meteor)); "
            "the service never applied it"
        )


class TestExplain:
    def test_planned_delay_stands_in_when_the_ledger_lacks_the_source_timestamp(self) -> None:
        """A record written before source timestamps were ledgered shows the planned delay."""
        h = HistoryBuilder()
        old = h.event("o-1", 1)
        new = h.event("o-1", 2)
        record = ledger_record(old, fault="reorder", delay_ms=700, fault_name="shuffle")
        record = record.model_copy(update={"source_timestamp_ms": None})
        unit = [Delivered(old, (record,)), Delivered(new, (ledger_record(new),))]
        cause = explain("stale_overwrite", ("e1", "e2"), "v2", "v1", unit, versions=True)
        assert cause.mechanism == (
            "v2 delivered before v1 (v1 held back 0.7 s (planned) by fault `shuffle` (reorder)); "
            "v1 applied last"
        )


class TestDeliveryOrder:
    def test_destination_offsets_order_copies_sent_in_one_batch(self) -> None:
        """Same send time, v2 at a lower offset than v1: v2 reached the service first."""
        h = HistoryBuilder()
        old, new = h.event("o-1", 1), h.event("o-1", 2)
        first = ledger_record(old, fault="reorder", fault_name="shuffle")
        second = ledger_record(new, fault="reorder", fault_name="shuffle")
        sent = 5_000
        first = first.model_copy(
            update={
                "emissions": (
                    first.emissions[0].model_copy(update={"offset": 9, "sent_at_ms": sent}),
                )
            }
        )
        second = second.model_copy(
            update={
                "emissions": (
                    second.emissions[0].model_copy(update={"offset": 8, "sent_at_ms": sent}),
                )
            }
        )
        unit = [Delivered(old, (first,)), Delivered(new, (second,))]
        cause = explain("stale_overwrite", ("e1", "e2"), "v2", "v1", unit, versions=True)
        assert cause.mechanism == (
            "v2 delivered before v1 (v1 held back 4.0 s by fault `shuffle` (reorder)); "
            "v1 applied last"
        )
