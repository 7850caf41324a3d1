"""Crash re-deliveries counted from the ledger, apart from the faults that were asked for."""

from __future__ import annotations

from collections import Counter

from chaosbus.contracts.ledger_record import LedgerEmission, LedgerRecord
from chaosbus.monitors.redelivery import first_decisions, redelivered, unledgered_copies
from chaosbus.monitors.testing import HistoryBuilder


def restarted_history() -> HistoryBuilder:
    """Five messages; after a restart e2 (pass) and e3 (duplicate) are decided again, e4
    (pass) twice more."""
    h = HistoryBuilder()
    h.event("a", 1)
    e2 = h.event("a", 2)
    e3 = h.event("b", 1, fault="duplicate")
    e4 = h.event("b", 2)
    h.event("c", 1, fault="drop")
    h.redecide(e2)
    h.redecide(e3)
    h.redecide(e4)
    h.redecide(e4)
    return h


def at(record: LedgerRecord, *offsets: int) -> LedgerRecord:
    """`record` with its copies landed at destination offsets `offsets` of partition 0."""
    emissions = tuple(
        LedgerEmission(copy_number=i, planned_delay_ms=0, partition=0, offset=offset)
        for i, offset in enumerate(offsets)
    )
    return record.model_copy(update={"emissions": emissions})


class TestRedelivered:
    def test_copies_of_decisions_taken_again(self) -> None:
        """1 (e2) + 2 (e3's duplicate) + 1 + 1 (e4 twice): 5 copies re-delivered."""
        assert redelivered(restarted_history().ledger) == 5

    def test_first_decisions_count_each_message_once(self) -> None:
        """Faults counted over first decisions: 3 passes, 1 duplicate, 1 drop, as asked."""
        first = first_decisions(restarted_history().ledger)
        assert [r.offset for r in first] == [0, 1, 2, 3, 4]
        assert Counter(r.fault for r in first) == {"pass": 3, "duplicate": 1, "drop": 1}

    def test_a_ledger_without_restart_redelivers_nothing(self) -> None:
        """Source re-deliveries (new offsets) are not crash re-deliveries."""
        h = HistoryBuilder()
        h.redeliver(h.event("a", 1))
        assert redelivered(h.ledger) == 0

    def test_the_same_offset_on_another_route_is_another_decision(self) -> None:
        """(route, topic, partition, offset) names a decision: two routes, no re-delivery."""
        h = HistoryBuilder()
        h.event("a", 1)
        other = h.ledger[0].model_copy(update={"route": "orders->audit"})
        assert redelivered([*h.ledger, other]) == 0


class TestUnledgeredCopies:
    def test_copies_no_emission_names(self) -> None:
        """Destination offsets 0-4, the ledger names 0, 1, 2 and 4: offset 3 is unledgered."""
        h = HistoryBuilder()
        for version in (1, 2, 3):
            h.event("a", version)
        records = [at(h.ledger[0], 0), at(h.ledger[1], 1, 4), at(h.ledger[2], 2)]
        destination = [(0, offset) for offset in range(5)]
        assert unledgered_copies(records, "orders->orders.out", destination) == 1
        assert unledgered_copies(records, "other->route", destination) == 5
