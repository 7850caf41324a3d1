"""FaultPlan: the composition the stream runtime calls."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from chaosbus.injectors.errors import ProtectedTopicError, SpecError
from chaosbus.injectors.plan import COUNT_KEYS, FaultPlan
from chaosbus.injectors.rng import decision_stream
from chaosbus.injectors.spec import (
    BlastRadius,
    DelayFault,
    DropFault,
    DuplicateFault,
    Fault,
    FaultFile,
    FixedDelay,
    MatchSpec,
    ReorderFault,
    UniformDelay,
)
from chaosbus.injectors.testing import drive, envelope


def plan(*faults: Fault, seed: int = 1, **blast: Any) -> FaultPlan:
    return FaultPlan(faults, BlastRadius(**blast), seed)


def offsets(emissions: Any) -> list[int]:
    return [e.envelope.source.offset for e in emissions]


class TestChoice:
    def test_no_faults_passes_everything(self) -> None:
        """An empty plan passes every message at once, with no reason."""
        decision = plan().decide(envelope(5), 100)
        assert (decision.fault, decision.reason, decision.held, decision.fault_name) == (
            "pass",
            None,
            0,
            None,
        )
        assert [(e.copy, e.release_at_ms) for e in decision.emissions] == [(0, 100)]

    def test_first_matching_fault_wins(self) -> None:
        """Faults are tried in file order; a later one only gets what earlier ones skip."""
        p = plan(
            DropFault(probability=1, match=MatchSpec(key="a*"), name="drop-a"),
            DuplicateFault(probability=1),
        )
        assert p.decide(envelope(0, key=b"abc"), 0).fault_name == "drop-a"
        taken = p.decide(envelope(1, key=b"xyz"), 0)
        assert (taken.fault, taken.fault_name) == ("duplicate", "faults[1]")

    def test_probability_zero_never_fires(self) -> None:
        """A fault with probability 0 never takes a message."""
        trace = drive(plan(DropFault(probability=0)), [envelope(i) for i in range(200)])
        assert {d.fault for d in trace.decisions} == {"pass"}

    def test_header_and_topic_match(self) -> None:
        """Header values and topic globs must all hold for the fault to apply."""
        match = MatchSpec(topic="orders.*", headers={"source": "n8n"})
        p = plan(DropFault(probability=1, match=match))
        assert p.decide(envelope(0, headers=(("source", b"n8n"),)), 0).fault == "drop"
        assert p.decide(envelope(1, headers=(("source", b"zapier"),)), 0).fault == "pass"
        other_topic = envelope(2, topic="billing", headers=(("source", b"n8n"),))
        assert p.decide(other_topic, 0).fault == "pass"

    def test_json_equals_is_strict_about_booleans(self) -> None:
        """`equals: 1` does not match `true`: JSON types are compared, not Python truthiness."""
        fault = {"probability": 1, "match": {"json": {"a": {"equals": 1}}}}
        p = plan(DropFault.model_validate(fault))
        assert p.decide(envelope(0, value=b'{"a": true}'), 0).fault == "pass"
        assert p.decide(envelope(1, value=b'{"a": 1.0}'), 0).fault == "drop"

    def test_json_exists_on_nested_path(self) -> None:
        """Dotted paths walk objects and list indexes; exists: false matches absence."""
        present = DropFault.model_validate(
            {"probability": 1, "match": {"json": {"items.0.sku": {"exists": True}}}}
        )
        absent = DropFault.model_validate(
            {"probability": 1, "match": {"json": {"items.0.sku": {"exists": False}}}}
        )
        value = b'{"items": [{"sku": "x"}]}'
        assert plan(present).decide(envelope(0, value=value), 0).fault == "drop"
        assert plan(absent).decide(envelope(0, value=value), 0).fault == "pass"
        assert plan(absent).decide(envelope(0, value=b'{"items": []}'), 0).fault == "drop"


class TestDraws:
    def test_fault_i_fires_on_draw_i_of_the_message_stream(self) -> None:
        """Ten faults: the first whose draw (word i of the stream, counter mode past eight)
        is below its probability takes the message; the plan computes it from nothing else."""
        probabilities = [0.05, 0.1, 0.02, 0.1, 0.05, 0.1, 0.02, 0.1, 0.3, 0.5]
        faults = [DuplicateFault(probability=p, name=f"f{i}") for i, p in enumerate(probabilities)]
        p = plan(*faults, seed=9)
        names: Counter[str | None] = Counter()
        for offset in range(300):
            draws = decision_stream(9, "orders.nocode", 0, offset).draws(len(faults))
            fired = [i for i, q in enumerate(probabilities) if draws[i] < q]
            name = p.decide(envelope(offset), offset).fault_name
            assert name == (f"f{fired[0]}" if fired else None)
            names[name] += 1
        # Seed 9 over these 300 offsets: the two faults past the first block do fire.
        assert (names["f8"], names["f9"], names[None]) == (53, 62, 63)

    def test_the_injector_continues_after_every_fault_draw(self) -> None:
        """A uniform delay is the stream's randint after the plan's draws, one per fault."""
        uniform = UniformDelay(min_ms=0, max_ms=500)
        delay = DelayFault(probability=1, distribution=uniform, preserve_order=False)
        p = plan(DropFault(probability=0), delay, seed=3)
        for offset in range(50):
            stream = decision_stream(3, "orders.nocode", 0, offset)
            stream.draws(2)
            (emission,) = p.decide(envelope(offset), 0).emissions
            assert emission.planned_delay_ms == stream.randint(0, 500)

    def test_the_route_id_replaces_the_topic_in_the_derivation(self) -> None:
        """A pinned route id keys the stream; the source topic does not enter it."""
        delay = DelayFault(probability=1, distribution=UniformDelay(min_ms=0, max_ms=10**6))
        p = FaultPlan([delay], BlastRadius(), 4, route_id="orders")
        stream = decision_stream(4, "orders", 2, 7)
        stream.draws(1)
        decided = p.decide(envelope(7, partition=2, topic="ci-1.orders"), 0)
        assert decided.emissions[0].planned_delay_ms == stream.randint(0, 10**6)


class TestNonJson:
    @pytest.mark.parametrize("value", [b"not json", b"[1, 2]", b"\xff\xfe", None, b"3"])
    def test_non_json_passes_and_is_counted(self, value: bytes | None) -> None:
        """A payload that is not a JSON object never matches a json condition, and is counted."""
        fault = DropFault.model_validate(
            {"probability": 1, "match": {"json": {"a": {"exists": False}}}}
        )
        p = plan(fault)
        decision = p.decide(envelope(0, value=value), 0)
        assert (decision.fault, decision.reason) == ("pass", "non_json")
        assert offsets(decision.emissions) == [0]
        assert p.counts["non_json"] == 1
        assert p.counts["pass"] == 1

    def test_later_fault_without_json_still_applies(self) -> None:
        """A json fault skipped for non-JSON does not shield the message from later faults."""
        json_fault = DropFault.model_validate(
            {"probability": 1, "match": {"json": {"a": {"equals": 1}}}}
        )
        p = plan(json_fault, DuplicateFault(probability=1))
        assert p.decide(envelope(0, value=b"plain"), 0).fault == "duplicate"
        assert p.counts["non_json"] == 0


class TestBlastRadius:
    def test_protected_topic_never_faulted(self) -> None:
        """Messages from a protected topic pass with reason protected_topic."""
        p = plan(DropFault(probability=1), protected_topics=("pay*",))
        decision = p.decide(envelope(0, topic="payments"), 0)
        assert (decision.fault, decision.reason) == ("pass", "protected_topic")

    @pytest.mark.parametrize("route", [("payments", "orders"), ("orders.nocode", "payments")])
    def test_check_routes_refuses_protected_source_or_destination(
        self, route: tuple[str, str]
    ) -> None:
        """A route touching a protected topic is refused, naming the route and the glob."""
        p = plan(DropFault(probability=1), protected_topics=("pay*",))
        with pytest.raises(ProtectedTopicError, match=r"route .* -> .*'pay\*'"):
            p.check_routes([("a", "b"), route])

    def test_check_routes_allows_protected_without_faults(self) -> None:
        """Protected topics only matter when there is a fault to keep away from them."""
        plan(protected_topics=("*",)).check_routes([("payments", "orders")])

    def test_max_faults(self) -> None:
        """No more than max_faults source messages are faulted; the rest say max_faults."""
        trace = drive(plan(DuplicateFault(probability=1), max_faults=3), map(envelope, range(10)))
        faulted = [d for d in trace.decisions if d.fault != "pass"]
        assert len(faulted) == 3
        assert {d.reason for d in trace.decisions[3:]} == {"max_faults"}

    def test_max_key_share(self) -> None:
        """Touched keys never exceed the share of distinct keys seen; touched keys stay open."""
        p = plan(DropFault(probability=1), max_key_share=0.5)
        keys = [b"a", b"b", b"a", b"c", b"d", b"b"]
        decisions = [p.decide(envelope(i, key=k), 0) for i, k in enumerate(keys)]
        assert [d.fault for d in decisions] == ["pass", "drop", "pass", "pass", "drop", "drop"]
        assert decisions[0].reason == "max_key_share"


class TestControls:
    def test_intensity_zero_injects_nothing(self) -> None:
        """Intensity 0 stops every fault, bursts in progress included."""
        p = plan(DropFault(probability=1, burst=5))
        assert p.decide(envelope(0), 0).fault == "drop"
        p.intensity = 0.0
        assert p.decide(envelope(1), 0).fault == "pass"

    def test_intensity_scales_probability(self) -> None:
        """Half intensity roughly halves the fault rate."""
        p = plan(DropFault(probability=0.8))
        p.intensity = 0.5
        drops = sum(p.decide(envelope(i), 0).fault == "drop" for i in range(4000))
        assert 1400 < drops < 1800

    def test_intensity_out_of_range(self) -> None:
        """Intensity outside [0, 1] is refused."""
        with pytest.raises(ValueError, match="intensity"):
            plan().intensity = 1.5

    def test_disabled_passes_and_drains(self) -> None:
        """Disabled: every decision passes with reason disabled, behind anything still held."""
        p = plan(ReorderFault(probability=1, window=10))
        p.decide(envelope(0), 0)
        p.enabled = False
        decision = p.decide(envelope(1), 5)
        assert (decision.fault, decision.reason) == ("pass", "disabled")
        # Message 0 was drained first, so message 1 waits behind it rather than overtaking.
        assert (decision.emissions, decision.held) == ((), 1)
        assert offsets(p.poll(5)) == [0, 1]
        assert p.held_count == 0

    def test_flush_lifts_the_order_floor_of_a_delay(self) -> None:
        """After a kill's flush, a pass is not held back behind a delay that was released."""
        p = plan(DelayFault(probability=1, distribution=FixedDelay(ms=120_000)))
        (delayed,) = p.decide(envelope(0), 0).emissions
        assert delayed.release_at_ms == 120_000
        p.enabled = False
        p.flush(10)
        (passed,) = p.decide(envelope(1), 20).emissions
        assert (passed.release_at_ms, passed.planned_delay_ms) == (20, 0)

    def test_counts_every_type(self) -> None:
        """counts has every fault type, pass and non_json, and tallies decisions."""
        p = plan(DropFault(probability=1))
        p.decide(envelope(0), 0)
        assert set(p.counts) == set(COUNT_KEYS)
        assert p.counts["drop"] == 1

    def test_seed_from_file_or_argument(self) -> None:
        """from_file uses the explicit seed, else the file's, and refuses to guess one."""
        assert FaultPlan.from_file(FaultFile(faults=(), seed=3)).seed == 3
        assert FaultPlan.from_file(FaultFile(faults=(), seed=3), seed=4).seed == 4
        with pytest.raises(SpecError, match="seed"):
            FaultPlan.from_file(FaultFile(faults=()))


class TestHoldingAndOrder:
    def test_reorder_window_released_by_poll(self) -> None:
        """A filled window leaves through poll, and each decision counts only its own copy."""
        p = plan(ReorderFault(probability=1, window=3))
        decisions = [p.decide(envelope(i), i) for i in range(3)]
        assert [(d.emissions, d.held) for d in decisions] == [((), 1)] * 3
        released = p.poll(3)
        assert sorted(offsets(released)) == [0, 1, 2]
        assert {e.release_at_ms for e in released} == {2}
        assert p.held_count == 0

    def test_later_messages_queue_behind_released_window(self) -> None:
        """Until poll hands a released window out, later messages queue behind it."""
        p = plan(ReorderFault(probability=1, window=2, match=MatchSpec(key="r*")))
        p.decide(envelope(0, key=b"r0"), 0)
        p.decide(envelope(1, key=b"r1"), 0)
        behind = p.decide(envelope(2, key=b"x"), 0)
        assert (behind.emissions, behind.held) == ((), 1)
        assert offsets(p.poll(0))[-1] == 2

    def test_within_ms_expiry_at_decide(self) -> None:
        """An expired buffer is released before the next message of its partition joins."""
        p = plan(ReorderFault(probability=1, window=10, within_ms=100))
        p.decide(envelope(0), 0)
        p.decide(envelope(1), 150)
        assert offsets(p.poll(150)) == [0]
        assert p.held_count == 1

    def test_flush_restores_partition_order(self) -> None:
        """flush releases every held message at the flush time in source order."""
        p = plan(ReorderFault(probability=1, window=100))
        for i in range(5):
            p.decide(envelope(i), i)
        flushed = p.flush(50)
        assert offsets(flushed) == [0, 1, 2, 3, 4]
        assert {e.release_at_ms for e in flushed} == {50}

    def test_preserve_order_delay_holds_back_the_partition(self) -> None:
        """With preserve_order, later emissions of the partition wait for the delayed one."""
        p = plan(
            DelayFault(probability=1, match=MatchSpec(key="slow"), distribution=FixedDelay(ms=1000))
        )
        slow = p.decide(envelope(0, key=b"slow"), 0)
        fast = p.decide(envelope(1, key=b"fast"), 10)
        other = p.decide(envelope(2, key=b"fast", partition=1), 10)
        assert slow.emissions[0].release_at_ms == 1000
        assert (fast.emissions[0].release_at_ms, fast.emissions[0].planned_delay_ms) == (1000, 990)
        assert other.emissions[0].release_at_ms == 10

    def test_delay_without_preserve_order_can_be_overtaken(self) -> None:
        """Without preserve_order, later messages leave at their own time."""
        p = plan(
            DelayFault(
                probability=1,
                match=MatchSpec(key="slow"),
                distribution=FixedDelay(ms=1000),
                preserve_order=False,
            )
        )
        p.decide(envelope(0, key=b"slow"), 0)
        assert p.decide(envelope(1, key=b"fast"), 10).emissions[0].release_at_ms == 10

    def test_drop_burst_runs_per_partition(self) -> None:
        """Once a drop fires, the next burst-1 messages of that same partition drop too."""
        p = plan(DropFault(probability=0.02, burst=3), seed=5)
        dropped: dict[int, list[bool]] = {0: [], 1: []}
        for offset in range(3000):
            for partition in (0, 1):
                decision = p.decide(envelope(offset, partition=partition), offset)
                dropped[partition].append(decision.fault == "drop")
        for flags in dropped.values():
            runs = "".join("x" if flag else "." for flag in flags).split(".")
            lengths = [len(run) for run in runs if run]
            assert lengths
            assert min(lengths) >= 3
