"""The release schedule: by time, ties in planning order, memory counted."""

from __future__ import annotations

from chaosbus.injectors.envelope import Emission, Envelope, SourceCoordinates
from chaosbus.streams.release_schedule import ReleaseSchedule


def emission(offset: int, release_at: int) -> Emission:
    envelope = Envelope(b"k", b"v" * 100, (), 0, SourceCoordinates("t", 0, offset))
    return Emission(envelope, 0, release_at)


def schedule() -> ReleaseSchedule[Emission]:
    return ReleaseSchedule(lambda e: e.release_at_ms, lambda e: e.envelope.approx_size)


class TestReleaseSchedule:
    def test_due_in_time_order_ties_in_planning_order(self) -> None:
        """Emissions leave by release time; equal times keep the order they were pushed in."""
        queue = schedule()
        for offset, at in [(0, 50), (1, 10), (2, 10), (3, 30)]:
            queue.push(emission(offset, at))
        assert [e.envelope.source.offset for e in queue.pop_due(30)] == [1, 2, 3]
        assert queue.next_release_ms() == 50
        assert [e.envelope.source.offset for e in queue.pop_all()] == [0]

    def test_held_bytes_follow_pushes_and_pops(self) -> None:
        """The memory bound sees what is held, and nothing once drained."""
        queue = schedule()
        queue.push(emission(0, 5))
        assert queue.held_bytes == emission(0, 5).envelope.approx_size
        queue.pop_due(5)
        assert (len(queue), queue.held_bytes) == (0, 0)

    def test_pop_all_orders_items_that_do_not_compare(self) -> None:
        """Items without an order of their own (parked entries, emissions) sort by time and
        planning order only, so a flush never compares two items."""
        queue: ReleaseSchedule[object] = ReleaseSchedule(lambda _: 7)
        first, second = object(), object()
        queue.push_all([first, second])
        assert queue.pop_all() == [first, second]
