"""Crash re-deliveries: copies sent again after an interposer restart, asked by no fault.

At-least-once, an interposer that crashes reads again what it had read since its last
offset commit and decides it again. Decisions are deterministic (seed, route id, partition,
offset), so the same fault is chosen and the ledger holds a second record for the same
source message: the first record is the decision, the later ones' copies are
*re-deliveries*, counted apart from injected duplicates (`redelivered`). A copy that reached
the destination before the crash but whose ledger record was never written leaves no
second record; only a read of the destination shows it (`unledgered_copies`). Exactly-once
writes copies, ledger records and offsets in one transaction: it re-delivers nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from chaosbus.contracts.ledger_record import LedgerRecord

Decision = tuple[str, str, int, int]  # (route, topic, partition, offset) of a source message


def decision_of(record: LedgerRecord) -> Decision:
    return (record.route, record.topic, record.partition, record.offset)


def first_decisions(records: Iterable[LedgerRecord]) -> list[LedgerRecord]:
    """The first record of each source message's decision, in ledger order."""
    seen: set[Decision] = set()
    first = []
    for record in records:
        decision = decision_of(record)
        if decision not in seen:
            seen.add(decision)
            first.append(record)
    return first


def redelivered(records: Iterable[LedgerRecord]) -> int:
    """Copies of decisions taken again: every emission of a record after its message's first."""
    seen: set[Decision] = set()
    copies = 0
    for record in records:
        decision = decision_of(record)
        if decision in seen:
            copies += len(record.emissions)
        else:
            seen.add(decision)
    return copies


def unledgered_copies(
    records: Iterable[LedgerRecord], route: str, destination: Iterable[tuple[int, int]]
) -> int:
    """Copies on the route's destination, as (partition, offset), no ledger emission names:
    sent before a crash whose ledger record was never written, then sent again."""
    named = {
        (emission.partition, emission.offset)
        for record in records
        if record.route == route
        for emission in record.emissions
    }
    return sum(1 for coords in destination if coords not in named)
