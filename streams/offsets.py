"""Which source offset may be committed, when messages complete out of order.

A source message is *in flight* from the moment it is read until every emission planned for
it (and its ledger record) has been acknowledged by the broker. Kafka's committed offset
means "everything below is done", so the committable offset of a partition is its lowest
in-flight offset, or one past the highest offset read when nothing is in flight. A held
(delayed, reordered) message therefore pins the commit point below itself: a crash
re-delivers it rather than loses it.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass
class _PartitionOffsets:
    remaining: dict[int, int] = field(default_factory=dict)
    order: list[int] = field(default_factory=list)  # min-heap; completed offsets removed lazily
    next_offset: int | None = None
    committed: int | None = None


class OffsetTracker:
    """Per (topic, partition): in-flight offsets and the offset safe to commit."""

    def __init__(self) -> None:
        self._partitions: dict[tuple[str, int], _PartitionOffsets] = {}

    def begin(self, topic: str, partition: int, offset: int, pending: int) -> None:
        """Record a read message that needs `pending` acknowledgements before it is done."""
        state = self._partitions.get((topic, partition))
        if state is None:  # not `setdefault`: that would build a state for every message
            state = self._partitions[(topic, partition)] = _PartitionOffsets()
        state.next_offset = offset + 1
        if pending > 0:
            state.remaining[offset] = pending
            heapq.heappush(state.order, offset)

    def acknowledge(self, topic: str, partition: int, offset: int, count: int = 1) -> bool:
        """Count acknowledgements; True when the message is now complete.

        An acknowledgement of a partition already forgotten (revoked) is ignored: its new
        owner reads the message again.
        """
        state = self._partitions.get((topic, partition))
        if state is None or offset not in state.remaining:
            return False
        left = state.remaining[offset] - count
        if left > 0:
            state.remaining[offset] = left
            return False
        del state.remaining[offset]
        return True

    def acknowledge_each(self, topic: str, partition: int, offsets: Iterable[int]) -> None:
        """One acknowledgement for each of `offsets` (a producer batch, a ledger record):
        `acknowledge` without a call per message."""
        state = self._partitions.get((topic, partition))
        if state is None:
            return
        remaining = state.remaining
        for offset in offsets:
            left = remaining.get(offset)
            if left is None:
                continue
            if left > 1:
                remaining[offset] = left - 1
            else:
                del remaining[offset]

    def add_pending(self, topic: str, partition: int, offset: int, count: int) -> None:
        """A message that was complete or in flight needs more acknowledgements (a resend)."""
        state = self._partitions[(topic, partition)]
        if offset not in state.remaining:
            heapq.heappush(state.order, offset)
        state.remaining[offset] = state.remaining.get(offset, 0) + count

    def committable(self, topic: str, partition: int) -> int | None:
        state = self._partitions.get((topic, partition))
        if state is None or state.next_offset is None:
            return None
        order = state.order
        while order and order[0] not in state.remaining:
            heapq.heappop(order)
        return order[0] if order else state.next_offset

    def to_commit(self) -> dict[tuple[str, int], int]:
        """Offsets that moved since the last `mark_committed`, ready for a commit call."""
        result: dict[tuple[str, int], int] = {}
        for key, state in self._partitions.items():
            offset = self.committable(*key)
            if offset is not None and offset != state.committed:
                result[key] = offset
        return result

    def mark_committed(self, offsets: dict[tuple[str, int], int]) -> None:
        """Note a commit; a partition forgotten since (revoked) is skipped."""
        for key, offset in offsets.items():
            state = self._partitions.get(key)
            if state is not None:
                state.committed = offset

    def in_flight(self) -> int:
        return sum(len(state.remaining) for state in self._partitions.values())

    def lowest_in_flight(self, topic: str, partition: int) -> int | None:
        state = self._partitions.get((topic, partition))
        if state is None or not state.remaining:
            return None
        return self.committable(topic, partition)

    def forget(self, topic: str, partition: int) -> None:
        """Drop a revoked partition's bookkeeping once it has been drained and committed."""
        self._partitions.pop((topic, partition), None)
