"""Held emissions ordered by release time; ties keep the order in which they were planned."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable

from injectors.envelope import Emission


class ReleaseQueue:
    """A min-heap of emissions waiting for their logical release time, with a memory bound."""

    def __init__(self) -> None:
        self._heap: list[tuple[int, int, Emission]] = []
        self._sequence = itertools.count()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._heap)

    @property
    def held_bytes(self) -> int:
        return self._bytes

    def push(self, emission: Emission) -> None:
        heapq.heappush(self._heap, (emission.release_at_ms, next(self._sequence), emission))
        self._bytes += emission.envelope.approx_size

    def push_all(self, emissions: Iterable[Emission]) -> None:
        for emission in emissions:
            self.push(emission)

    def next_release_ms(self) -> int | None:
        return self._heap[0][0] if self._heap else None

    def pop_due(self, now_ms: int) -> list[Emission]:
        due: list[Emission] = []
        heap = self._heap
        while heap and heap[0][0] <= now_ms:
            emission = heapq.heappop(heap)[2]
            self._bytes -= emission.envelope.approx_size
            due.append(emission)
        return due

    def pop_all(self) -> list[Emission]:
        """Everything held, in release order: what a stop or a kill switch flushes."""
        ordered = [item[2] for item in sorted(self._heap)]
        self._heap.clear()
        self._bytes = 0
        return ordered
