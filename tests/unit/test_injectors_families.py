"""The fault families beyond retries and ordering: corrupt, schema_drift, replay, outage, and
count-exact triggers. Property tests over generated inputs, exact where the seed decides."""

from __future__ import annotations

import json
from collections import Counter, defaultdict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chaosbus.injectors.envelope import Envelope
from chaosbus.injectors.plan import FaultPlan
from chaosbus.injectors.spec import (
    BlastRadius,
    CorruptFault,
    DropFault,
    DuplicateFault,
    Fault,
    FaultFile,
    OutageFault,
    ReplayFault,
    SchemaDriftFault,
    Trigger,
)
from chaosbus.injectors.testing import drive, envelope

RUNS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
seeds = st.integers(0, 2**63)
probabilities = st.sampled_from([0.0, 0.3, 1.0])
documents = st.dictionaries(
    st.sampled_from(["id", "status", "version", "amount", "note"]),
    st.one_of(st.integers(-5, 500), st.sampled_from(["paid", "12", "1.5", "x"]), st.booleans()),
    max_size=5,
)
corrupts = st.builds(
    CorruptFault,
    probability=probabilities,
    mode=st.sampled_from(["replace", "extra"]),
    how=st.lists(
        st.sampled_from(["truncate", "flip", "invalid_utf8", "non_json"]),
        min_size=1,
        max_size=4,
        unique=True,
    ).map(tuple),
    flip_bytes=st.integers(1, 4),
)
drifts = st.builds(
    SchemaDriftFault,
    probability=probabilities,
    mode=st.sampled_from(["replace", "extra"]),
    change=st.lists(
        st.sampled_from(["rename", "remove", "retype", "enum", "extra"]),
        min_size=1,
        max_size=5,
        unique=True,
    ).map(tuple),
)
replays = st.one_of(
    st.builds(ReplayFault, probability=probabilities, after_ms=st.integers(1, 500)),
    st.builds(ReplayFault, probability=probabilities, after_messages=st.integers(1, 8)),
)
outages = st.builds(
    OutageFault,
    probability=st.sampled_from([0.05, 0.3]),
    duration_ms=st.integers(1, 60),
    order=st.sampled_from(["preserve", "shuffle"]),
)
families = st.lists(st.one_of(corrupts, drifts, replays, outages), min_size=1, max_size=3)


@st.composite
def json_streams(draw: st.DrawFn, max_partitions: int = 2) -> list[Envelope]:
    """JSON objects over a few partitions, offsets increasing per partition."""
    partitions = draw(st.lists(st.integers(0, max_partitions - 1), max_size=50))
    next_offset: Counter[int] = Counter()
    out = []
    for partition in partitions:
        offset = next_offset[partition]
        next_offset[partition] += 1
        value = json.dumps(draw(documents)).encode()
        out.append(envelope(offset, partition=partition, value=value))
    return out


def is_json_object(value: bytes | None) -> bool:
    try:
        return isinstance(json.loads(value or b""), dict)
    except (ValueError, UnicodeDecodeError):
        return False


class TestCorrupt:
    @RUNS
    @given(corrupts, json_streams(), seeds)
    def test_damaged_copy_differs_and_extra_keeps_the_original(
        self, fault: CorruptFault, inputs: list[Envelope], seed: int
    ) -> None:
        """replace: one damaged copy 0; extra: the intact copy 0 then a damaged copy 1."""
        trace = drive(FaultPlan([fault], BlastRadius(), seed), inputs)
        source = {env.source: env for env in inputs}
        for decision in trace.decisions:
            if decision.fault != "corrupt":
                continue
            original = source[decision.source]
            copies = list(decision.emissions)
            damaged = copies[-1]
            assert damaged.variant is not None
            assert damaged.variant.startswith("corrupt:")
            assert damaged.envelope.value != original.value
            assert damaged.envelope.source == original.source
            if fault.mode == "replace":
                assert [e.copy for e in copies] == [0]
            else:
                assert [e.copy for e in copies] == [0, 1]
                assert copies[0].envelope == original
                assert copies[0].variant is None

    @pytest.mark.parametrize("how", ["invalid_utf8", "non_json"])
    def test_unreadable_damage_cannot_be_parsed(self, how: str) -> None:
        """invalid_utf8 never decodes and non_json never parses, whatever the input."""
        fault = CorruptFault(probability=1, how=(how,))
        plan = FaultPlan([fault], BlastRadius(), 3)
        for offset in range(50):
            value = json.dumps({"id": offset, "note": "é" * offset}).encode()
            (emission,) = plan.decide(envelope(offset, value=value), 0).emissions
            assert not is_json_object(emission.envelope.value)
            assert emission.variant == f"corrupt:{how}"


class TestSchemaDrift:
    @RUNS
    @given(drifts, json_streams(), seeds)
    def test_drifted_object_differs_in_shape_or_type(
        self, fault: SchemaDriftFault, inputs: list[Envelope], seed: int
    ) -> None:
        """A drifted copy is still a JSON object, different from its source, and says how."""
        trace = drive(FaultPlan([fault], BlastRadius(), seed), inputs)
        source = {env.source: env for env in inputs}
        for decision in trace.decisions:
            if decision.fault != "schema_drift":
                continue
            drifted = decision.emissions[-1]
            assert drifted.variant is not None
            assert drifted.variant.startswith("schema_drift:")
            before = json.loads(source[decision.source].value or b"")
            after = json.loads(drifted.envelope.value or b"")
            assert isinstance(after, dict)
            assert after != before

    def test_rename_moves_the_named_field(self) -> None:
        """rename of a named field: the old name is gone, the suffixed one holds its value."""
        fault = SchemaDriftFault(probability=1, change=("rename",), field="status")
        plan = FaultPlan([fault], BlastRadius(), 1)
        value = b'{"id": 7, "status": "paid"}'
        (emission,) = plan.decide(envelope(0, value=value), 0).emissions
        assert json.loads(emission.envelope.value or b"") == {"id": 7, "status_v2": "paid"}
        assert emission.variant == "schema_drift:rename:status"

    def test_non_json_is_delivered_unchanged_and_labelled(self) -> None:
        """A value that is not an object cannot drift: unchanged, and the variant says so."""
        plan = FaultPlan([SchemaDriftFault(probability=1)], BlastRadius(), 1)
        (emission,) = plan.decide(envelope(0, value=b"not json"), 0).emissions
        assert emission.envelope.value == b"not json"
        assert emission.variant == "schema_drift:not_json"


class TestReplay:
    @RUNS
    @given(st.integers(1, 8), probabilities, json_streams(), seeds)
    def test_after_messages_comes_back_behind_the_due_offset(
        self, after: int, probability: float, inputs: list[Envelope], seed: int
    ) -> None:
        """The original on time; the replay right before offset + N of its partition (or at
        flush when the partition ends first); exactly one replay per faulted message."""
        fault = ReplayFault(probability=probability, after_messages=after)
        trace = drive(FaultPlan([fault], BlastRadius(), seed), inputs)
        order = [(e.envelope.source, e.copy) for e in trace.emissions]
        replayed = [d.source for d in trace.decisions if d.fault == "replay"]
        assert Counter(s for s, copy in order if copy == 1) == Counter(replayed)
        for src in replayed:
            replay_at = order.index((src, 1))
            assert order.index((src, 0)) < replay_at
            later = [s for s, c in order[:replay_at] if s.partition == src.partition and c == 0]
            assert max(s.offset for s in later) == min(
                src.offset + after - 1,
                max(s.offset for s, _ in order if s.partition == src.partition),
            )

    def test_after_ms_schedules_the_replay_later(self) -> None:
        """With after_ms the replay is planned that long after the on-time original."""
        plan = FaultPlan([ReplayFault(probability=1, after_ms=30_000)], BlastRadius(), 1)
        original, replay = plan.decide(envelope(0), 1_000).emissions
        assert (original.copy, original.release_at_ms) == (0, 1_000)
        assert (replay.copy, replay.release_at_ms, replay.planned_delay_ms) == (1, 31_000, 30_000)
        assert replay.variant == "replay"


class TestOutage:
    @RUNS
    @given(outages, json_streams(), seeds)
    def test_nothing_lost_and_held_messages_leave_together(
        self, fault: OutageFault, inputs: list[Envelope], seed: int
    ) -> None:
        """Every input comes out once; an outage's messages leave at one time, never before
        it ended, in arrival order unless shuffled."""
        trace = drive(FaultPlan([fault], BlastRadius(), seed), inputs, step_ms=5, flush=True)
        assert Counter(e.envelope for e in trace.emissions) == Counter(inputs)
        groups: dict[tuple[int, int], list[int]] = defaultdict(list)
        for e in trace.emissions:
            if e.planned_delay_ms:
                groups[(e.envelope.source.partition, e.release_at_ms)].append(
                    e.envelope.source.offset
                )
        if fault.order == "preserve":
            assert all(offsets == sorted(offsets) for offsets in groups.values())

    def test_holds_a_whole_partition_for_the_duration(self) -> None:
        """Once fired, every message of the partition is held until the outage ends."""
        fault = OutageFault(probability=1, duration_ms=100, trigger=Trigger(first=1))
        plan = FaultPlan([fault], BlastRadius(), 5)
        held = [plan.decide(envelope(i), i * 10) for i in range(10)]
        assert [d.fault for d in held] == ["outage"] * 10
        assert plan.held_count == 10
        released = plan.decide(envelope(10), 100)
        assert released.fault == "pass"
        caught_up = plan.poll(100)
        assert [e.envelope.source.offset for e in caught_up] == [*range(10), 10]
        assert {e.release_at_ms for e in caught_up} == {100}


class TestTriggers:
    def fired(self, fault: Fault, count: int, partitions: int = 1) -> dict[int, list[int]]:
        plan = FaultPlan([fault], BlastRadius(), 11)
        out: dict[int, list[int]] = defaultdict(list)
        for offset in range(count):
            for partition in range(partitions):
                decision = plan.decide(envelope(offset, partition=partition), offset)
                if decision.fault != "pass":
                    out[partition].append(offset)
        return dict(out)

    def test_first_n_per_partition(self) -> None:
        """first: 3 faults exactly the first three messages of each partition."""
        fault = DropFault.model_validate({"trigger": {"first": 3}})
        assert self.fired(fault, 10, partitions=2) == {0: [0, 1, 2], 1: [0, 1, 2]}

    def test_every_k(self) -> None:
        """every: 4 faults the 4th, 8th, … message."""
        fault = DropFault.model_validate({"trigger": {"every": 4}})
        assert self.fired(fault, 13) == {0: [3, 7, 11]}

    def test_after_n_with_times(self) -> None:
        """after: 5, times: 2 skips five, then faults two and stops."""
        fault = DuplicateFault.model_validate({"trigger": {"after": 5, "times": 2}})
        assert self.fired(fault, 20) == {0: [5, 6]}

    def test_times_counts_faults_not_draws(self) -> None:
        """With a probability, times: 3 still stops after exactly three faults."""
        fault = DropFault.model_validate({"probability": 0.3, "trigger": {"times": 3}})
        assert len(self.fired(fault, 200)[0]) == 3

    def test_counts_every_match_even_when_another_fault_takes_it(self) -> None:
        """A trigger counts the messages it matches, whichever fault takes them."""
        first = DuplicateFault.model_validate({"trigger": {"first": 2}})
        second = DropFault.model_validate({"trigger": {"first": 3}})
        plan = FaultPlan([first, second], BlastRadius(), 1)
        decisions = [plan.decide(envelope(i), i).fault for i in range(5)]
        assert decisions == ["duplicate", "duplicate", "drop", "pass", "pass"]

    def test_probability_defaults_to_one_only_with_a_trigger(self) -> None:
        """A triggered fault may omit probability; an untriggered one may not."""
        parsed = FaultFile.model_validate({"faults": [{"type": "drop", "trigger": {"first": 1}}]})
        assert parsed.faults[0].probability == 1.0
        with pytest.raises(ValueError, match="probability"):
            FaultFile.model_validate({"faults": [{"type": "drop"}]})

    def test_an_empty_trigger_is_refused(self) -> None:
        """trigger: {} says nothing and is an error, not a silent no-op."""
        with pytest.raises(ValueError, match="needs one of first, after, every, times"):
            FaultFile.model_validate({"faults": [{"type": "drop", "trigger": {}}]})


class TestFamiliesTogether:
    @RUNS
    @given(families, json_streams(), seeds, st.integers(0, 3))
    def test_accounting_and_determinism(
        self, faults: list[Fault], inputs: list[Envelope], seed: int, poll_every: int
    ) -> None:
        """Each decision yields exactly len(emissions) + held copies, none are lost, and
        the same seed gives the same decisions and emissions."""
        plan = FaultPlan(faults, BlastRadius(), seed)
        trace = drive(plan, inputs, step_ms=4, poll_every=poll_every)
        out = Counter(e.envelope.source for e in trace.emissions)
        for decision in trace.decisions:
            promised = len(decision.emissions) + decision.held
            assert out[decision.source] == promised >= 1
        again = drive(
            FaultPlan(faults, BlastRadius(), seed), inputs, step_ms=4, poll_every=poll_every
        )
        assert (again.decisions, again.emissions) == (trace.decisions, trace.emissions)
        assert plan.held_count == 0
