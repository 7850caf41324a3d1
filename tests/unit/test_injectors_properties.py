"""Property tests: the invariants the fault model promises, over generated plans and inputs."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chaosbus.injectors.envelope import Emission, Envelope
from chaosbus.injectors.plan import Decision, FaultPlan
from chaosbus.injectors.spec import (
    BlastRadius,
    DelayFault,
    DropFault,
    DuplicateFault,
    ExponentialDelay,
    Fault,
    FixedDelay,
    MatchSpec,
    ReorderFault,
    SpikeDelay,
    UniformDelay,
)
from chaosbus.injectors.testing import drive, envelope

probabilities = st.sampled_from([0.0, 0.1, 0.5, 0.9, 1.0])
matches = st.one_of(st.none(), st.builds(MatchSpec, key=st.sampled_from(["k1*", "*2", "k?"])))
distributions = st.one_of(
    st.builds(FixedDelay, ms=st.integers(0, 500)),
    st.integers(0, 300).flatmap(
        lambda low: st.builds(UniformDelay, min_ms=st.just(low), max_ms=st.integers(low, 600))
    ),
    st.builds(ExponentialDelay, mean_ms=st.floats(1, 200)),
    st.builds(
        SpikeDelay,
        base_ms=st.integers(0, 50),
        spike_ms=st.integers(0, 2000),
        spike_probability=probabilities,
    ),
)
duplicates = st.builds(
    DuplicateFault,
    probability=probabilities,
    copies=st.integers(1, 4),
    spread_ms=st.integers(0, 100),
    match=matches,
)
reorders = st.builds(
    ReorderFault,
    probability=probabilities,
    window=st.integers(2, 6),
    within_ms=st.one_of(st.none(), st.integers(1, 200)),
    match=matches,
)
delays = st.builds(
    DelayFault,
    probability=probabilities,
    distribution=distributions,
    preserve_order=st.booleans(),
    match=matches,
)
drops = st.builds(DropFault, probability=probabilities, burst=st.integers(1, 4), match=matches)
lossless_faults = st.lists(st.one_of(duplicates, reorders, delays), max_size=4)
any_faults = st.lists(st.one_of(duplicates, reorders, delays, drops), max_size=4)
seeds = st.integers(0, 2**63)


@st.composite
def streams(draw: st.DrawFn, max_partitions: int = 3) -> list[Envelope]:
    """Messages over a few partitions, offsets increasing per partition, keys reused."""
    partitions = draw(st.lists(st.integers(0, max_partitions - 1), max_size=60))
    next_offset: Counter[int] = Counter()
    out = []
    for partition in partitions:
        offset = next_offset[partition]
        next_offset[partition] += 1
        key = draw(st.sampled_from([b"k1", b"k2", b"k12", b"x", b"k1a"]))
        out.append(envelope(offset, partition=partition, key=key))
    return out


def identity(e: Emission) -> tuple[int, int, int]:
    return (e.envelope.source.partition, e.envelope.source.offset, e.copy)


def by_partition(decisions: list[Decision]) -> dict[int, list[Decision]]:
    grouped: dict[int, list[Decision]] = defaultdict(list)
    for decision in decisions:
        grouped[decision.source.partition].append(decision)
    return dict(grouped)


RUNS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class TestNoLoss:
    @RUNS
    @given(lossless_faults, streams(), seeds, st.integers(0, 4), st.integers(0, 50))
    def test_every_input_comes_out_without_drop(
        self, faults: list[Fault], inputs: list[Envelope], seed: int, poll_every: int, step: int
    ) -> None:
        """Without a drop fault every input appears among the emissions, flush included."""
        plan = FaultPlan(faults, BlastRadius(), seed)
        trace = drive(plan, inputs, step_ms=step, poll_every=poll_every)
        originals = [e.envelope for e in trace.emissions if e.copy == 0]
        assert Counter(originals) == Counter(inputs)
        assert plan.held_count == 0

    @RUNS
    @given(any_faults, streams(), seeds, st.integers(0, 4))
    def test_copies_accounted_per_decision(
        self, faults: list[Fault], inputs: list[Envelope], seed: int, poll_every: int
    ) -> None:
        """Each source yields exactly len(emissions) + held copies; only drops yield none."""
        plan = FaultPlan(faults, BlastRadius(), seed)
        trace = drive(plan, inputs, step_ms=7, poll_every=poll_every)
        out = Counter(e.envelope.source for e in trace.emissions)
        for decision in trace.decisions:
            promised = len(decision.emissions) + decision.held
            assert out[decision.source] == promised
            assert (promised == 0) == (decision.fault == "drop")

    @RUNS
    @given(any_faults, streams(), seeds)
    def test_release_never_before_decision(
        self, faults: list[Fault], inputs: list[Envelope], seed: int
    ) -> None:
        """No emission is scheduled before the time its message was decided."""
        plan = FaultPlan(faults, BlastRadius(), seed)
        decided_at = {env.source: index * 5 for index, env in enumerate(inputs)}
        trace = drive(plan, inputs, step_ms=5)
        for emission in trace.emissions:
            assert emission.release_at_ms >= decided_at[emission.envelope.source]
            assert emission.planned_delay_ms == (
                emission.release_at_ms - decided_at[emission.envelope.source]
            )


class TestDuplicate:
    @RUNS
    @given(duplicates, streams(), seeds)
    def test_adds_exactly_its_copies(
        self, fault: DuplicateFault, inputs: list[Envelope], seed: int
    ) -> None:
        """A duplicated message comes out as copies 0..n, byte-identical, in copy order."""
        plan = FaultPlan([fault], BlastRadius(), seed)
        trace = drive(plan, inputs)
        for decision in trace.decisions:
            copies = list(decision.emissions)
            expected = fault.copies + 1 if decision.fault == "duplicate" else 1
            assert [e.copy for e in copies] == list(range(expected))
            assert len({e.envelope for e in copies}) == 1
            times = [e.release_at_ms for e in copies]
            assert times == sorted(times)


class TestReorder:
    @RUNS
    @given(st.integers(2, 6), probabilities, streams(max_partitions=2), seeds)
    def test_permutation_inside_window(
        self, window: int, probability: float, inputs: list[Envelope], seed: int
    ) -> None:
        """Held messages come out in groups of `window`, each a permutation of its inputs."""
        fault = ReorderFault(probability=probability, window=window)
        plan = FaultPlan([fault], BlastRadius(), seed)
        held: dict[int, list[int]] = defaultdict(list)
        for env in inputs:
            decision = plan.decide(env, 0)
            if decision.fault == "reorder":
                held[env.source.partition].append(env.source.offset)
            released = plan.poll(0)
            assert len(released) in (0, window)
            if released:
                partition = released[0].envelope.source.partition
                group = held[partition][:window]
                del held[partition][:window]
                assert sorted(e.envelope.source.offset for e in released) == sorted(group)
        flushed = plan.flush(0)
        assert sorted(identity(e) for e in flushed) == sorted(
            (p, o, 0) for p, offsets in held.items() for o in offsets
        )


class TestDelay:
    @RUNS
    @given(st.lists(delays, min_size=1, max_size=3), streams(), seeds)
    def test_keeps_the_multiset(
        self, faults: list[Fault], inputs: list[Envelope], seed: int
    ) -> None:
        """Delay changes when messages leave, never which messages leave."""
        trace = drive(FaultPlan(faults, BlastRadius(), seed), inputs, step_ms=3)
        assert Counter(e.envelope for e in trace.emissions) == Counter(inputs)

    @RUNS
    @given(st.lists(delays, min_size=1, max_size=3), streams(), seeds)
    def test_preserve_order_keeps_partition_order(
        self, faults: list[Fault], inputs: list[Envelope], seed: int
    ) -> None:
        """With every delay preserving order, sending by release time keeps each partition's
        order."""
        ordered = [f.model_copy(update={"preserve_order": True}) for f in faults]
        trace = drive(FaultPlan(ordered, BlastRadius(), seed), inputs, step_ms=3)
        sent = sorted(enumerate(trace.emissions), key=lambda p: (p[1].release_at_ms, p[0]))
        per_partition: dict[int, list[int]] = defaultdict(list)
        for _, emission in sent:
            source = emission.envelope.source
            per_partition[source.partition].append(source.offset)
        assert all(offsets == sorted(offsets) for offsets in per_partition.values())


class TestDeterminism:
    @RUNS
    @given(any_faults, streams(), seeds)
    def test_same_seed_same_decisions(
        self, faults: list[Fault], inputs: list[Envelope], seed: int
    ) -> None:
        """Two plans with the same seed decide the same stream identically."""
        first = drive(FaultPlan(faults, BlastRadius(), seed), inputs, step_ms=2)
        again = drive(FaultPlan(faults, BlastRadius(), seed), inputs, step_ms=2)
        assert first.decisions == again.decisions
        assert first.emissions == again.emissions

    @RUNS
    @given(any_faults, streams(), seeds, st.randoms(use_true_random=False))
    def test_partition_interleaving_does_not_matter(
        self, faults: list[Fault], inputs: list[Envelope], seed: int, shuffler: Any
    ) -> None:
        """Per-partition decisions are identical however the partitions are interleaved."""
        times = {env.source: 10 * env.source.offset for env in inputs}
        interleaved = list(inputs)
        shuffler.shuffle(interleaved)
        # Shuffle across partitions only: restore each partition's own order.
        slots: dict[int, list[Envelope]] = defaultdict(list)
        for env in inputs:
            slots[env.source.partition].append(env)
        reordered = [slots[env.source.partition].pop(0) for env in interleaved]

        def decide_all(order: list[Envelope]) -> dict[int, list[Decision]]:
            plan = FaultPlan(faults, BlastRadius(), seed)
            return by_partition([plan.decide(env, times[env.source]) for env in order])

        assert decide_all(inputs) == decide_all(reordered)


class TestBlastRadius:
    @RUNS
    @given(
        any_faults,
        streams(),
        seeds,
        st.one_of(st.none(), st.integers(0, 10)),
        st.one_of(st.none(), st.sampled_from([0.1, 0.25, 0.5, 1.0])),
    )
    def test_caps_never_exceeded(
        self,
        faults: list[Fault],
        inputs: list[Envelope],
        seed: int,
        max_faults: int | None,
        share: float | None,
    ) -> None:
        """Faulted messages stay within max_faults and touched keys within the key share."""
        blast = BlastRadius(max_faults=max_faults, max_key_share=share)
        plan = FaultPlan(faults, blast, seed)
        seen: set[bytes | None] = set()
        touched: set[bytes | None] = set()
        faulted = 0
        for index, env in enumerate(inputs):
            decision = plan.decide(env, index)
            seen.add(env.key)
            if decision.fault != "pass":
                faulted += 1
                touched.add(env.key)
            if max_faults is not None:
                assert faulted <= max_faults
            if share is not None:
                assert len(touched) / len(seen) <= share


class TestNonJson:
    @RUNS
    @given(st.lists(st.one_of(st.none(), st.binary(max_size=30)), max_size=30), seeds)
    def test_non_json_passes_untouched_and_is_counted(
        self, values: list[bytes | None], seed: int
    ) -> None:
        """Payloads that are not JSON objects pass unchanged, each counted as non_json."""
        fault = DropFault.model_validate(
            {"probability": 1, "match": {"json": {"id": {"exists": False}}}}
        )
        plan = FaultPlan([fault], BlastRadius(), seed)
        non_objects = 0
        for offset, value in enumerate(values):
            decision = plan.decide(envelope(offset, value=value), 0)
            if not _is_json_object(value):
                non_objects += 1
                assert decision.reason == "non_json"
                assert [e.envelope.value for e in decision.emissions] == [value]
        assert plan.counts["non_json"] == non_objects


def _is_json_object(value: bytes | None) -> bool:
    if value is None:
        return False
    try:
        return isinstance(json.loads(value), dict)
    except ValueError:
        return False
