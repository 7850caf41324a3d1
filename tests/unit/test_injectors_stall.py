"""Stall, a stuck connector shard: the module on its own, then the plan, then its invariants
over generated inputs (nothing lost, order kept within the partition, other partitions
untouched, the same seed deciding the same)."""

from __future__ import annotations

import random
from collections import Counter, defaultdict

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chaosbus.injectors import INJECTORS, StallFault, stall
from chaosbus.injectors.envelope import Emission, Envelope
from chaosbus.injectors.plan import Decision, FaultPlan
from chaosbus.injectors.spec import (
    BlastRadius,
    DropFault,
    DuplicateFault,
    Fault,
    MatchSpec,
)
from chaosbus.injectors.testing import Trace, drive, envelope

RUNS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
seeds = st.integers(0, 2**63)
stalls = st.builds(
    StallFault,
    probability=st.sampled_from([0.02, 0.1, 0.5]),
    duration_ms=st.integers(1, 80),
)


def plan(*faults: Fault, seed: int = 3, **blast: object) -> FaultPlan:
    return FaultPlan(faults, BlastRadius.model_validate(blast), seed)


def first_stall(duration_ms: int = 100, **fields: object) -> StallFault:
    """A stall on the first matching message of each partition."""
    return StallFault.model_validate(
        {"duration_ms": duration_ms, "trigger": {"first": 1}, **fields}
    )


def delivered(trace: Trace) -> dict[int, list[int]]:
    """Per partition, the source offsets in the order a runtime sends them: by release time,
    ties in the order the plan handed them out."""
    order = sorted(enumerate(trace.emissions), key=lambda item: (item[1].release_at_ms, item[0]))
    out: dict[int, list[int]] = defaultdict(list)
    for _, emission in order:
        out[emission.envelope.source.partition].append(emission.envelope.source.offset)
    return dict(out)


@st.composite
def partitioned(draw: st.DrawFn, partitions: int = 3) -> list[Envelope]:
    """Messages over a few partitions, interleaved at random, offsets increasing per
    partition; keys say the partition (`p0-…`), so a match can target one."""
    order = draw(st.lists(st.integers(0, partitions - 1), max_size=60))
    next_offset: Counter[int] = Counter()
    out = []
    for partition in order:
        offset = next_offset[partition]
        next_offset[partition] += 1
        out.append(envelope(offset, partition=partition, key=f"p{partition}-{offset}".encode()))
    return out


class TestModule:
    def test_opening_sets_the_end_and_holds_the_message_until_it(self) -> None:
        """The firing message opens a stall of `duration_ms`; its one copy is due at the end."""
        config = StallFault(probability=1, duration_ms=250)
        out, state = stall.apply(config, envelope(4), stall.StallState(), random.Random(0), 1000)
        assert state == stall.StallState(1250)
        assert [(e.copy, e.release_at_ms, e.planned_delay_ms) for e in out] == [(0, 1250, 250)]

    def test_a_held_message_waits_for_the_same_end(self) -> None:
        """A message taken while the stall is open is due at the stall's end, not later."""
        config = StallFault(probability=1, duration_ms=250)
        (held,), state = stall.apply(
            config, envelope(5), stall.StallState(1250), random.Random(0), 1100
        )
        assert (held.release_at_ms, held.planned_delay_ms) == (1250, 150)
        assert state == stall.StallState(1250)

    def test_poll_ends_it_on_time_and_flush_at_once(self) -> None:
        """The stall seizes until its end; poll ends it then, flush ends it at any time."""
        config = StallFault(probability=1, duration_ms=250)
        open_ = stall.StallState(1250)
        assert stall.seizes(config, open_)
        assert not stall.seizes(config, stall.StallState())
        assert stall.poll(config, open_, 1249) == ((), open_)
        assert stall.poll(config, open_, 1250) == ((), stall.StallState())
        assert stall.flush(config, open_, 0) == ((), stall.StallState())

    def test_its_registry_entry(self) -> None:
        """A stall seizes its partition and floors its order, holds nothing in the plan and
        adds no copies; its cause says how long the event was held."""
        entry = INJECTORS["stall"]
        assert entry is stall.FAULT
        config = StallFault(probability=1, duration_ms=1)
        assert entry.seizes is not None
        assert entry.held is None
        assert entry.forced is None
        assert entry.floors_order(config)
        assert entry.extra_copies(config) == 0
        assert entry.ledgered == (None,)


class TestPlan:
    def test_holds_the_whole_partition_for_the_duration(self) -> None:
        """Fired on the first message, a stall holds every message of that partition decided
        before its end, until its end; the next one flows; other partitions flow all along."""
        p = plan(first_stall(100, match={"key": "p0-*"}))
        stalled = [p.decide(envelope(i, key=f"p0-{i}".encode()), i * 10) for i in range(10)]
        other = [p.decide(envelope(i, partition=1), i * 10 + 5) for i in range(10)]
        assert [d.fault for d in stalled] == ["stall"] * 10
        assert {e.release_at_ms for d in stalled for e in d.emissions} == {100}
        assert [d.emissions[0].planned_delay_ms for d in stalled] == list(range(100, 0, -10))
        assert all(d.held == 0 and len(d.emissions) == 1 for d in stalled)
        assert [(d.fault, d.emissions[0].planned_delay_ms) for d in other] == [("pass", 0)] * 10
        after = p.decide(envelope(10, key=b"p0-10"), 100)
        assert (after.fault, after.emissions[0].release_at_ms) == ("pass", 100)
        assert p.counts["stall"] == 10
        assert p.held_count == 0

    def test_holds_what_it_does_not_match_before_any_other_fault(self) -> None:
        """Once stalled, a message the stall's match refuses is held too, even one an earlier
        fault in the file would have dropped."""
        p = plan(
            DropFault(probability=1, match=MatchSpec(key="d*")),
            first_stall(50, match={"key": "s*"}),
        )
        assert p.decide(envelope(0, key=b"d0"), 0).fault == "drop"
        assert p.decide(envelope(1, key=b"s1"), 10).fault == "stall"
        held = p.decide(envelope(2, key=b"d2"), 20)
        assert (held.fault, held.fault_name, held.emissions[0].release_at_ms) == (
            "stall",
            "faults[1]",
            60,
        )
        assert p.decide(envelope(3, key=b"d3"), 60).fault == "drop"

    def test_a_fire_does_not_extend_an_open_stall(self) -> None:
        """Messages during a stall are held, not drawn for: the stall ends on time, and the
        next fire opens a new one."""
        p = plan(StallFault(probability=1, duration_ms=100))
        releases = [p.decide(envelope(i), i * 10).emissions[0].release_at_ms for i in range(25)]
        assert releases == [100] * 10 + [200] * 10 + [300] * 5

    def test_a_capped_message_stays_behind_the_stall(self) -> None:
        """A held message the blast radius refuses passes, yet no earlier than the stall's
        end: nothing of the partition overtakes it."""
        p = plan(first_stall(100), max_faults=3)
        decisions = [p.decide(envelope(i), i * 10) for i in range(6)]
        assert [(d.fault, d.reason) for d in decisions] == [("stall", None)] * 3 + [
            ("pass", "max_faults")
        ] * 3
        assert {d.emissions[0].release_at_ms for d in decisions} == {100}

    def test_the_kill_switch_ends_it(self) -> None:
        """Disabled, the plan passes at once: the stall and its order floor are gone."""
        p = plan(first_stall(100))
        p.decide(envelope(0), 0)
        p.enabled = False
        passed = p.decide(envelope(1), 10)
        assert (passed.fault, passed.reason, passed.emissions[0].release_at_ms) == (
            "pass",
            "disabled",
            10,
        )
        p.enabled = True
        assert p.decide(envelope(2), 20).fault == "pass"  # first: 1 was spent

    def test_intensity_zero_takes_nothing_new_but_keeps_the_order(self) -> None:
        """At intensity 0 an open stall takes no message, yet its floor still holds them."""
        p = plan(first_stall(100))
        p.decide(envelope(0), 0)
        p.intensity = 0.0
        held = p.decide(envelope(1), 10)
        assert (held.fault, held.emissions[0].release_at_ms) == ("pass", 100)


class TestInvariants:
    @RUNS
    @given(stalls, partitioned(), seeds)
    def test_nothing_lost_and_order_kept_within_the_partition(
        self, fault: StallFault, inputs: list[Envelope], seed: int
    ) -> None:
        """Every input comes out exactly once, and each partition in its source order."""
        trace = drive(plan(fault, seed=seed), inputs, step_ms=7)
        assert Counter(e.envelope for e in trace.emissions) == Counter(inputs)
        assert all(e.copy == 0 for e in trace.emissions)
        for offsets in delivered(trace).values():
            assert offsets == sorted(offsets)

    @RUNS
    @given(stalls, partitioned(), seeds)
    def test_a_stalled_message_waits_no_longer_than_its_stall(
        self, fault: StallFault, inputs: list[Envelope], seed: int
    ) -> None:
        """A stall decision is held, at most `duration_ms`; a pass outside a stall is not."""
        trace = drive(plan(fault, seed=seed), inputs, step_ms=7)
        for decision in trace.decisions:
            (emission,) = decision.emissions
            delay = emission.planned_delay_ms
            if decision.fault == "stall":
                assert 0 < delay <= fault.duration_ms
            else:
                assert delay == 0

    @RUNS
    @given(stalls, partitioned(), seeds)
    def test_other_partitions_are_untouched(
        self, fault: StallFault, inputs: list[Envelope], seed: int
    ) -> None:
        """A stall that can fire only on partition 0 leaves the others' decisions exactly as
        a stall that never fires does, beside a duplicate fault drawing on every message."""
        targeted = fault.model_copy(update={"match": MatchSpec(key="p0-*")})
        never = fault.model_copy(update={"match": MatchSpec(key="nobody")})
        duplicate = DuplicateFault(probability=0.3, spread_ms=20)
        with_stall = drive(plan(targeted, duplicate, seed=seed), inputs, step_ms=7)
        without = drive(plan(never, duplicate, seed=seed), inputs, step_ms=7)

        def others(trace: Trace) -> list[tuple[object, ...]]:
            return [
                (d.source, d.fault, d.held, tuple(d.emissions))
                for d in trace.decisions
                if d.source.partition != 0
            ]

        assert others(with_stall) == others(without)
        assert all(
            e.planned_delay_ms == 0 or d.fault == "duplicate"
            for d in with_stall.decisions
            if d.source.partition != 0
            for e in d.emissions
        )

    @RUNS
    @given(stalls, partitioned(), seeds, st.randoms(use_true_random=False))
    def test_same_seed_same_decisions_however_partitions_interleave(
        self, fault: StallFault, inputs: list[Envelope], seed: int, shuffler: random.Random
    ) -> None:
        """Each message decided at its own time gets the same decision in any interleaving
        that keeps each partition's order, and in a second run."""
        at = {env: env.source.offset * 7 + env.source.partition for env in inputs}
        faults = (fault, DuplicateFault(probability=0.2))
        first = decide_all(plan(*faults, seed=seed), inputs, at)
        again = decide_all(plan(*faults, seed=seed), inputs, at)
        mixed = decide_all(plan(*faults, seed=seed), interleaved(inputs, shuffler), at)
        assert first == again == mixed


def decide_all(
    p: FaultPlan, inputs: list[Envelope], at: dict[Envelope, int]
) -> dict[tuple[int, int], tuple[str, tuple[Emission, ...]]]:
    decisions: dict[tuple[int, int], Decision] = {}
    for env in inputs:
        decisions[(env.source.partition, env.source.offset)] = p.decide(env, at[env])
    return {place: (d.fault, d.emissions) for place, d in decisions.items()}


def interleaved(inputs: list[Envelope], shuffler: random.Random) -> list[Envelope]:
    """The same messages in another interleaving of partitions, each partition in order."""
    queues: dict[int, list[Envelope]] = defaultdict(list)
    for env in inputs:
        queues[env.source.partition].append(env)
    out = []
    while queues:
        partition = shuffler.choice(sorted(queues))
        out.append(queues[partition].pop(0))
        if not queues[partition]:
            del queues[partition]
    return out
