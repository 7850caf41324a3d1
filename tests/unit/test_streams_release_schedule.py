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

    def test_placed_items_go_where_the_heap_would_have_put_them(self) -> None:
        """Copies kept beside the heap (due at once) come after what was pushed for their
        time before them and before what was pushed after, as if each had been pushed."""
        queue = schedule()
        queue.push(emission(0, 10))  # earlier time: first
        queue.push(emission(1, 20))  # same time, pushed before the placed ones
        placed = (20, queue.next_sequence, [emission(2, 20), emission(3, 20)])
        queue.push(emission(4, 20))  # same time, pushed after
        queue.push(emission(5, 25))
        assert [e.envelope.source.offset for e in queue.pop_due(30, placed)] == [0, 1, 2, 3, 4, 5]

    def test_placed_items_join_a_flush_in_the_same_place(self) -> None:
        """`pop_all` merges them as `pop_due` does, and with nothing queued gives them alone."""
        queue = schedule()
        queue.push(emission(0, 20))
        placed = (20, queue.next_sequence, [emission(1, 20)])
        queue.push(emission(2, 40))
        assert [e.envelope.source.offset for e in queue.pop_all(placed)] == [0, 1, 2]
        assert [e.envelope.source.offset for e in queue.pop_all(placed)] == [1]
