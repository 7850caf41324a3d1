"""When parked copies are due: a min-heap over (release time, source, copy number).

Entries are never removed early: the committed parked set is the truth, and an entry whose
copy is no longer parked is skipped when it comes up (`PartitionWork.release` says so).
"""

from __future__ import annotations

import heapq
import itertools

from injectors.envelope import SourceCoordinates

Entry = tuple[SourceCoordinates, int]


class ReleaseSchedule:
    def __init__(self) -> None:
        self._heap: list[tuple[int, int, SourceCoordinates, int]] = []
        self._sequence = itertools.count()

    def push(self, release_at_ms: int, source: SourceCoordinates, copy_number: int) -> None:
        heapq.heappush(self._heap, (release_at_ms, next(self._sequence), source, copy_number))

    def next_release_ms(self) -> int | None:
        return self._heap[0][0] if self._heap else None

    def pop_due(self, now_ms: int) -> list[tuple[int, SourceCoordinates, int]]:
        due: list[tuple[int, SourceCoordinates, int]] = []
        while self._heap and self._heap[0][0] <= now_ms:
            release_at, _, source, copy_number = heapq.heappop(self._heap)
            due.append((release_at, source, copy_number))
        return due

    def pop_all(self) -> list[tuple[int, SourceCoordinates, int]]:
        ordered = [(at, source, copy) for at, _, source, copy in sorted(self._heap)]
        self._heap.clear()
        return ordered
