"""Each injector on its own: pure apply/poll/flush over an explicit state and RNG."""

from __future__ import annotations

import random

import pytest

from chaosbus.injectors import delay, drop, duplicate, reorder
from chaosbus.injectors.spec import (
    DelayFault,
    DropFault,
    DuplicateFault,
    ExponentialDelay,
    FixedDelay,
    ReorderFault,
    SpikeDelay,
    UniformDelay,
)
from chaosbus.injectors.testing import envelope


class TestDuplicate:
    def test_back_to_back_copies(self) -> None:
        """Without spread, the original and every copy are released at the decision time."""
        env = envelope(1)
        out, _ = duplicate.apply(
            DuplicateFault(probability=1, copies=3), env, None, random.Random(0), 100
        )
        assert [(e.copy, e.release_at_ms, e.planned_delay_ms) for e in out] == [
            (0, 100, 0),
            (1, 100, 0),
            (2, 100, 0),
            (3, 100, 0),
        ]
        assert all(e.envelope is env for e in out)

    def test_spread_is_bounded_and_ordered_by_copy(self) -> None:
        """Copies land within spread_ms and never go back in time as the copy number grows."""
        config = DuplicateFault(probability=1, copies=20, spread_ms=50)
        out, _ = duplicate.apply(config, envelope(1), None, random.Random(3), 1000)
        times = [e.release_at_ms for e in out]
        assert times[0] == 1000
        assert times == sorted(times)
        assert all(1000 <= t <= 1050 for t in times)
        assert all(e.planned_delay_ms == e.release_at_ms - 1000 for e in out)


class TestDrop:
    def test_single_drop(self) -> None:
        """A drop emits nothing and leaves no burst pending."""
        out, state = drop.apply(
            DropFault(probability=1), envelope(1), drop.DropState(), random.Random(0), 0
        )
        assert out == ()
        assert not drop.forced(DropFault(probability=1), state)

    def test_burst_counts_down(self) -> None:
        """A burst of 3 forces the next two matched messages, then stops."""
        config = DropFault(probability=1, burst=3)
        state = drop.DropState()
        forced = []
        for offset in range(4):
            forced.append(drop.forced(config, state))
            _, state = drop.apply(config, envelope(offset), state, random.Random(0), 0)
        assert forced == [False, True, True, False]


class TestDelay:
    def test_fixed(self) -> None:
        """A fixed delay releases exactly that much later and records it as planned."""
        config = DelayFault(probability=1, distribution=FixedDelay(ms=250))
        (out,), _ = delay.apply(config, envelope(1), None, random.Random(0), 1000)
        assert (out.copy, out.release_at_ms, out.planned_delay_ms) == (0, 1250, 250)

    def test_uniform_bounds(self) -> None:
        """Uniform draws stay within [min_ms, max_ms], both ends reachable."""
        rng = random.Random(5)
        draws = {delay.draw_delay(UniformDelay(min_ms=3, max_ms=6), rng) for _ in range(400)}
        assert draws == {3, 4, 5, 6}

    def test_exponential_mean(self) -> None:
        """Exponential draws are non-negative with roughly the declared mean."""
        rng = random.Random(9)
        draws = [delay.draw_delay(ExponentialDelay(mean_ms=100), rng) for _ in range(5000)]
        assert min(draws) >= 0
        assert 90 < sum(draws) / len(draws) < 110

    @pytest.mark.parametrize(("spike_probability", "expected"), [(0.0, {10}), (1.0, {900})])
    def test_spike_extremes(self, spike_probability: float, expected: set[int]) -> None:
        """A spike distribution yields only base_ms or only spike_ms at the extremes."""
        dist = SpikeDelay(base_ms=10, spike_ms=900, spike_probability=spike_probability)
        rng = random.Random(1)
        assert {delay.draw_delay(dist, rng) for _ in range(50)} == expected

    def test_same_rng_same_delay(self) -> None:
        """The delay depends only on the RNG handed in."""
        config = DelayFault(probability=1, distribution=UniformDelay(min_ms=0, max_ms=10**6))
        first = delay.apply(config, envelope(1), None, random.Random(11), 0)
        again = delay.apply(config, envelope(1), None, random.Random(11), 0)
        assert first == again


class TestReorder:
    def test_holds_until_window_fills(self) -> None:
        """Messages are held until `window` of them are buffered, then all leave at once."""
        config = ReorderFault(probability=1, window=3)
        state = reorder.ReorderState()
        for offset in range(2):
            out, state = reorder.apply(config, envelope(offset), state, random.Random(offset), 10)
            assert out == ()
        assert reorder.held_count(state) == 2
        out, state = reorder.apply(config, envelope(2), state, random.Random(2), 30)
        assert sorted(e.envelope.source.offset for e in out) == [0, 1, 2]
        assert {e.release_at_ms for e in out} == {30}
        assert {e.envelope.source.offset: e.planned_delay_ms for e in out} == {0: 20, 1: 20, 2: 0}
        assert state == reorder.ReorderState()

    def test_window_order_comes_from_filling_rng(self) -> None:
        """The shuffle is decided by the RNG of the decision that filled the window."""
        config = ReorderFault(probability=1, window=6)

        def run(fill_seed: int) -> list[int]:
            state = reorder.ReorderState()
            for offset in range(5):
                _, state = reorder.apply(config, envelope(offset), state, random.Random(0), 0)
            out, _ = reorder.apply(config, envelope(5), state, random.Random(fill_seed), 0)
            return [e.envelope.source.offset for e in out]

        assert run(1) == run(1)
        assert len({tuple(run(seed)) for seed in range(20)}) > 1

    def test_poll_releases_after_within_ms(self) -> None:
        """With within_ms, poll releases a partial buffer once its oldest has waited enough."""
        config = ReorderFault(probability=1, window=10, within_ms=100)
        state = reorder.ReorderState()
        _, state = reorder.apply(config, envelope(0), state, random.Random(0), 0)
        _, state = reorder.apply(config, envelope(1), state, random.Random(1), 50)
        assert reorder.poll(config, state, 99) == ((), state)
        out, state = reorder.poll(config, state, 100)
        assert sorted(e.envelope.source.offset for e in out) == [0, 1]
        assert reorder.held_count(state) == 0

    def test_poll_without_within_ms_never_releases(self) -> None:
        """Without within_ms only a full window or a flush releases."""
        config = ReorderFault(probability=1, window=10)
        _, state = reorder.apply(config, envelope(0), reorder.ReorderState(), random.Random(0), 0)
        assert reorder.poll(config, state, 10**9) == ((), state)

    def test_flush_keeps_arrival_order(self) -> None:
        """Flush releases everything held in arrival order, at the flush time."""
        config = ReorderFault(probability=1, window=10)
        state = reorder.ReorderState()
        for offset in range(5):
            _, state = reorder.apply(config, envelope(offset), state, random.Random(9), offset)
        out, state = reorder.flush(config, state, 77)
        assert [e.envelope.source.offset for e in out] == [0, 1, 2, 3, 4]
        assert {e.release_at_ms for e in out} == {77}
        assert reorder.held_count(state) == 0
