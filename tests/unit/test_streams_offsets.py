"""The commit rule: never past a message that is still in flight."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from chaosbus.streams.offsets import OffsetTracker


class TestOffsetTracker:
    def test_commit_point_stays_below_a_held_message(self) -> None:
        """Offsets 31 held while 32 and 33 complete: the commit point stays at 31."""
        tracker = OffsetTracker()
        for offset in (31, 32, 33):
            tracker.begin("t", 0, offset, pending=1)
        tracker.acknowledge("t", 0, 32)
        tracker.acknowledge("t", 0, 33)
        assert tracker.committable("t", 0) == 31
        tracker.acknowledge("t", 0, 31)
        assert tracker.committable("t", 0) == 34

    def test_to_commit_reports_only_moves(self) -> None:
        """An offset already committed is not committed again."""
        tracker = OffsetTracker()
        tracker.begin("t", 1, 0, pending=0)
        assert tracker.to_commit() == {("t", 1): 1}
        tracker.mark_committed({("t", 1): 1})
        assert tracker.to_commit() == {}

    @given(
        st.lists(st.integers(1, 3), min_size=1, max_size=40),
        st.randoms(use_true_random=False),
    )
    def test_commit_point_is_the_lowest_incomplete_offset(
        self, pendings: list[int], rnd: object
    ) -> None:
        """Whatever order acknowledgements arrive in, the commit point never passes an
        incomplete message and reaches the end once all are complete."""
        import random

        assert isinstance(rnd, random.Random)
        tracker = OffsetTracker()
        acks = []
        for offset, pending in enumerate(pendings):
            tracker.begin("t", 0, offset, pending)
            acks.extend([offset] * pending)
        rnd.shuffle(acks)
        left = dict(enumerate(pendings))
        for offset in acks:
            tracker.acknowledge("t", 0, offset)
            left[offset] -= 1
            incomplete = [o for o, n in left.items() if n > 0]
            expected = min(incomplete) if incomplete else len(pendings)
            assert tracker.committable("t", 0) == expected
        assert tracker.in_flight() == 0
