"""The service's progress judged from lag samples, and effects listings turned into streams."""

from __future__ import annotations

from chaosbus.monitors.effect_snapshots import EffectSnapshots
from chaosbus.monitors.history import Effect
from chaosbus.monitors.lag import LagSample, LagSeries


def series(points: list[tuple[int, int, int]], stall_ms: int = 1_000) -> LagSeries:
    """One partition: (at_ms, committed, end) per sample."""
    lag = LagSeries(stall_ms=stall_ms)
    for at, committed, end in points:
        lag.add(LagSample(at, {0: committed}, {0: end}))
    return lag


class TestLagSeries:
    def test_a_committed_offset_standing_while_messages_wait_is_a_stall(self) -> None:
        """Offset 5 for 1.5 s with up to 15 waiting: one stall, resolved when it moved."""
        lag = series(
            [
                (0, 0, 0),
                (500, 5, 10),
                (1000, 5, 12),
                (1500, 5, 20),
                (2000, 5, 20),
                (2500, 20, 20),
                (3000, 20, 20),
            ]
        )
        (stall,) = lag.stalls()
        assert (stall.partition, stall.offset, stall.lag) == (0, 5, 15)
        assert (stall.since_ms, stall.duration_ms, stall.ongoing) == (500, 1500, False)
        assert lag.lag_max() == 15

    def test_standing_with_nothing_waiting_is_no_stall(self) -> None:
        """A quiet topic: the offset stands still at the end, which is not a stall."""
        lag = series([(0, 10, 10), (1000, 10, 10), (2000, 10, 10), (3000, 10, 10)])
        assert lag.stalls() == []
        assert lag.recovered_s(0) == 0.0

    def test_a_stall_shorter_than_the_threshold_is_none(self) -> None:
        """Waiting 800 ms under a 1 s threshold is a busy service, not a stuck one."""
        lag = series([(0, 0, 4), (400, 0, 8), (800, 0, 8), (1200, 8, 8)])
        assert lag.stalls() == []

    def test_still_standing_at_the_end_is_ongoing_and_never_recovered(self) -> None:
        """A service stuck to the end: the stall is ongoing, recovered_s is unknown."""
        lag = series([(0, 3, 3), (1000, 3, 9), (2000, 3, 9), (3000, 3, 9)])
        (stall,) = lag.stalls()
        assert stall.ongoing
        assert lag.caught_up_now() is False
        assert lag.recovered_s(1000) is None

    def test_recovery_counts_from_the_end_of_injection_to_caught_up(self) -> None:
        """Caught up means everything that was there a second ago is committed."""
        lag = series([(0, 0, 0), (1000, 0, 10), (2000, 2, 10), (3000, 10, 10), (4000, 10, 10)])
        assert [lag.caught_up(i) for i in range(5)] == [True, True, False, True, True]
        assert lag.recovered_s(1000) == 2.0
        summary = lag.summary("svc", "orders", 1000)
        assert (summary.group, summary.samples, summary.lag_max) == ("svc", 5, 10)


class TestEffectSnapshots:
    def test_only_effects_beyond_the_last_listing_are_new(self) -> None:
        """The baseline is not the run's; an id listed again once more is one new effect."""
        snapshots = EffectSnapshots([Effect("old", 1)])
        first = snapshots.new([Effect("old", 2), Effect("a", 2)])
        second = snapshots.new([Effect("old", 3), Effect("a", 3), Effect("a", 3)])
        assert [(e.event_id, e.observed_at_ms) for e in first] == [("a", 2)]
        assert [(e.event_id, e.observed_at_ms) for e in second] == [("a", 3)]
        assert snapshots.new([Effect("a", 4)]) == []  # a listing that shrank undoes nothing
