"""A golden run: one seed over one fixed input gives exactly the ledger pinned in
`tests/golden/decisions.jsonl`, whatever the code around the fault model looks like.

The simulation drives the fault plan as the route loop does (decide each message at a
logical time, poll every step, flush at the end), sends what it releases in release order to
a destination partition of the same number, and writes the ledger through the ledger book;
the records read back (`decode_ledger`) are compared line for line with the golden file.
Every fault type, a `json` match, a count trigger and blast-radius caps take part, so a
refactor that moves one decision, one copy, one delay or one ledger field fails here.

Regenerate only for an intended change of decisions (a new draw contract): run this module
with CHAOSBUS_GOLDEN_WRITE=1 and say why in the commit.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from chaosbus.contracts.ledger_record import decode_ledger
from chaosbus.contracts.records import event_id
from chaosbus.injectors.envelope import Emission, Envelope, SourceCoordinates
from chaosbus.injectors.plan import FaultPlan
from chaosbus.injectors.spec import FaultFile
from chaosbus.streams.ledger import LedgerBook

GOLDEN = Path(__file__).parent.parent / "golden" / "decisions.jsonl"
PARTITIONS = 3
PER_PARTITION = 160
STEP_MS = 7

FAULTS = {
    "seed": 20261207,
    "blast_radius": {"max_faults": 150, "max_copies_per_message": 3, "max_faults_per_s": 60},
    "faults": [
        {
            "name": "paid-twice",
            "type": "duplicate",
            "probability": 0.15,
            "copies": 2,
            "spread_ms": 40,
            "match": {"json": {"status": {"equals": "paid"}}},
        },
        {"name": "shuffle", "type": "reorder", "probability": 0.08, "window": 4, "within_ms": 90},
        {
            "name": "late",
            "type": "delay",
            "probability": 0.06,
            "distribution": {"kind": "uniform", "min_ms": 10, "max_ms": 120},
        },
        {
            "name": "late-unordered",
            "type": "delay",
            "probability": 0.04,
            "preserve_order": False,
            "distribution": {"kind": "fixed", "ms": 55},
        },
        {"name": "lost", "type": "drop", "probability": 0.03, "burst": 2},
        {"name": "damaged", "type": "corrupt", "probability": 0.03, "mode": "extra"},
        {"name": "drifted", "type": "schema_drift", "probability": 0.03},
        {"name": "redelivered", "type": "replay", "probability": 0.03, "after_messages": 9},
        {
            "name": "down",
            "type": "outage",
            "probability": 0.01,
            "duration_ms": 60,
            "order": "shuffle",
            "match": {"key": "k1*"},
        },
        {"name": "every-tenth", "type": "duplicate", "trigger": {"every": 10, "times": 4}},
    ],
}


def source_message(partition: int, offset: int) -> Envelope:
    n = partition * 1000 + offset
    if n % 29 == 5:
        value = b"not json at all"
    else:
        status = ("created", "updated", "paid", "cancelled")[n % 4]
        value = json.dumps(
            {
                "event_id": f"e-{partition}-{offset}",
                "order": f"o-{n % 23}",
                "version": offset // 4,
                "status": status,
                "amount": n % 97,
            },
            sort_keys=True,
        ).encode()
    return Envelope(
        key=f"k{n % 17}".encode(),
        value=value,
        headers=(("event-id", f"e-{partition}-{offset}".encode()),),
        timestamp_ms=1_000_000 + offset * STEP_MS,
        source=SourceCoordinates("orders.nocode", partition, offset),
    )


class Destination:
    """Sends released emissions in (release time, arrival) order and acknowledges them."""

    def __init__(self, book: LedgerBook) -> None:
        self.book = book
        self.pending: list[tuple[int, int, Emission]] = []
        self.arrivals = 0
        self.next_offset = dict.fromkeys(range(PARTITIONS), 0)

    def schedule(self, emissions: list[Emission] | tuple[Emission, ...]) -> None:
        for emission in emissions:
            self.pending.append((emission.release_at_ms, self.arrivals, emission))
            self.arrivals += 1

    def release(self, now_ms: int) -> None:
        due = sorted(p for p in self.pending if p[0] <= now_ms)
        self.pending = [p for p in self.pending if p[0] > now_ms]
        for _, _, emission in due:
            source = emission.envelope.source
            offset = self.next_offset[source.partition]
            self.next_offset[source.partition] += 1
            self.book.sent(
                source,
                copy_number=emission.copy,
                planned_delay_ms=emission.planned_delay_ms,
                partition=source.partition,
                offset=offset,
                now_ms=now_ms,
                variant=emission.variant,
            )


def golden_run() -> list[str]:
    plan = FaultPlan.from_file(FaultFile.model_validate(FAULTS), route_id="orders")
    book = LedgerBook(run_id="golden", route="orders.nocode->orders")
    destination = Destination(book)
    now = 1_000_000
    for offset in range(PER_PARTITION):
        for partition in range(PARTITIONS):
            now += STEP_MS
            envelope = source_message(partition, offset)
            destination.schedule(plan.poll(now))
            decision = plan.decide(envelope, now)
            book.open(
                envelope.source,
                key=envelope.key,
                event_id=event_id("event-id", envelope),
                fault=decision.fault,
                reason=decision.reason,
                expected=len(decision.emissions) + decision.held,
                now_ms=now,
                fault_name=decision.fault_name,
                source_timestamp_ms=envelope.timestamp_ms,
            )
            destination.schedule(decision.emissions)
            destination.release(now)
    now += 1_000
    destination.schedule(plan.poll(now))
    destination.schedule(plan.flush(now))
    destination.release(now + 10_000)
    assert not destination.pending
    assert len(book) == 0, "every decision's copies were acknowledged"
    lines = []
    for completed in book.take_completed():
        for record in decode_ledger(completed.payload):
            lines.append(record.model_dump_json())
    return lines


class TestGoldenDecisions:
    def test_one_seed_over_one_input_gives_the_pinned_ledger(self) -> None:
        """480 messages over 3 partitions give the golden file's records, line for line."""
        lines = golden_run()
        if os.environ.get("CHAOSBUS_GOLDEN_WRITE") == "1":
            GOLDEN.parent.mkdir(exist_ok=True)
            GOLDEN.write_text("\n".join(lines) + "\n")
        expected = GOLDEN.read_text().splitlines()
        assert len(lines) == len(expected)
        for index, (got, want) in enumerate(zip(lines, expected, strict=True)):
            assert got == want, f"ledger record {index} differs"

    def test_the_golden_run_exercises_every_fault_type(self) -> None:
        """The pinned ledger has passes, every fault type and at least one cap's refusal."""
        faults = {json.loads(line)["fault"] for line in GOLDEN.read_text().splitlines()}
        reasons = {json.loads(line)["reason"] for line in GOLDEN.read_text().splitlines()}
        assert faults == {
            "pass",
            "duplicate",
            "reorder",
            "delay",
            "drop",
            "corrupt",
            "schema_drift",
            "replay",
            "outage",
        }
        assert reasons & {"max_faults", "max_faults_per_s", "max_copies_per_message"}
        assert "non_json" in reasons
