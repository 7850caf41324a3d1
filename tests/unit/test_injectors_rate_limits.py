"""Blast-radius rate limits: max_faults_per_s (a token bucket) and max_copies_per_message."""

from __future__ import annotations

from typing import Any

from chaosbus.injectors.blast import CAPS
from chaosbus.injectors.plan import FaultPlan
from chaosbus.injectors.spec import BlastRadius, DropFault, DuplicateFault, Fault, MatchSpec
from chaosbus.injectors.testing import drive, envelope


def plan(*faults: Fault, **blast: Any) -> FaultPlan:
    return FaultPlan(faults, BlastRadius(**blast), seed=1)


class TestMaxFaultsPerSecond:
    def test_bucket_holds_one_second_then_refills_at_the_rate(self) -> None:
        """At 2/s, one message per 100 ms: the first 2 fault, then one fault every 500 ms."""
        p = plan(DropFault(probability=1), max_faults_per_s=2)
        trace = drive(p, map(envelope, range(30)), step_ms=100)
        faulted = [i for i, d in enumerate(trace.decisions) if d.fault == "drop"]
        assert faulted == [0, 1, 5, 10, 15, 20, 25]
        assert {d.reason for d in trace.decisions if d.fault == "pass"} == {"max_faults_per_s"}
        assert p.suppressed["max_faults_per_s"] == 23

    def test_same_logical_times_same_decisions(self) -> None:
        """The bucket reads only logical time: two plans over the same input agree exactly."""
        runs = [
            [
                d.fault
                for d in drive(
                    plan(DuplicateFault(probability=0.5), max_faults_per_s=3),
                    map(envelope, range(200)),
                    step_ms=37,
                ).decisions
            ]
            for _ in range(2)
        ]
        assert runs[0] == runs[1]

    def test_a_rate_below_one_still_allows_one_fault(self) -> None:
        """At 0.5/s the bucket holds one fault; the next comes two seconds later."""
        p = plan(DropFault(probability=1), max_faults_per_s=0.5)
        trace = drive(p, map(envelope, range(50)), step_ms=100)
        assert [i for i, d in enumerate(trace.decisions) if d.fault == "drop"] == [0, 20, 40]

    def test_time_going_back_refills_nothing(self) -> None:
        """A logical time earlier than the last one adds no tokens."""
        p = plan(DropFault(probability=1), max_faults_per_s=1)
        assert p.decide(envelope(0), 5_000).fault == "drop"
        assert p.decide(envelope(1), 1_000).reason == "max_faults_per_s"
        assert p.decide(envelope(2), 5_999).reason == "max_faults_per_s"
        assert p.decide(envelope(3), 6_000).fault == "drop"

    def test_a_drop_burst_is_rate_limited_too(self) -> None:
        """A burst in progress takes no draw, but still takes a token."""
        p = plan(DropFault(probability=1, burst=5), max_faults_per_s=1)
        faults = [p.decide(envelope(i), 0).fault for i in range(4)]
        assert faults == ["drop", "pass", "pass", "pass"]


class TestMaxCopiesPerMessage:
    def test_more_copies_than_the_cap_pass_with_the_reason(self) -> None:
        """A duplicate adding 3 copies under a cap of 2 passes, and the reason says why."""
        p = plan(DuplicateFault(probability=1, copies=3), max_copies_per_message=2)
        decision = p.decide(envelope(0), 0)
        assert (decision.fault, decision.reason, len(decision.emissions)) == (
            "pass",
            "max_copies_per_message",
            1,
        )
        assert dict(p.suppressed) == {cap: int(cap == "max_copies_per_message") for cap in CAPS}

    def test_within_the_cap_duplicates(self) -> None:
        """Copies equal to the cap are allowed; other faults add no copies and pass the cap."""
        p = plan(
            DuplicateFault(probability=1, copies=2, match=MatchSpec(key="d*")),
            DropFault(probability=1),
            max_copies_per_message=2,
        )
        assert len(p.decide(envelope(0, key=b"dup"), 0).emissions) == 3
        assert p.decide(envelope(1, key=b"other"), 0).fault == "drop"

    def test_zero_forbids_every_duplicate(self) -> None:
        """max_copies_per_message 0: no message is ever duplicated."""
        p = plan(DuplicateFault(probability=1), max_copies_per_message=0)
        trace = drive(p, map(envelope, range(10)))
        assert [d.reason for d in trace.decisions] == ["max_copies_per_message"] * 10
        assert len(trace.emissions) == 10


class TestSuppressedCounts:
    def test_each_cap_counts_its_own_passes(self) -> None:
        """max_faults binds first: the rest are counted under it, not under the rate."""
        p = plan(DropFault(probability=1), max_faults=2, max_faults_per_s=1)
        drive(p, map(envelope, range(10)), step_ms=1_000)
        assert dict(p.suppressed) == {
            "max_copies_per_message": 0,
            "max_faults": 8,
            "max_faults_per_s": 0,
            "max_key_share": 0,
        }
