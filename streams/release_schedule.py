"""What is held until a logical release time: one min-heap for both delivery modes.

At-least-once keeps the held emissions themselves here; exactly-once keeps (release time,
source, copy number) entries of copies parked in Kafka. Ties keep the order in which they
were planned, so copies released together go out as they were decided.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

T = TypeVar("T")


class ReleaseSchedule(Generic[T]):
    """Items ordered by `release_at(item)`, counting `size(item)` bytes while they wait."""

    def __init__(
        self, release_at: Callable[[T], int], size: Callable[[T], int] = lambda _: 0
    ) -> None:
        self._release_at = release_at
        self._size = size
        self._heap: list[tuple[int, int, T]] = []
        self._sequence = itertools.count()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._heap)

    @property
    def held_bytes(self) -> int:
        return self._bytes

    def push(self, item: T) -> None:
        heapq.heappush(self._heap, (self._release_at(item), next(self._sequence), item))
        self._bytes += self._size(item)

    def push_all(self, items: Iterable[T]) -> None:
        for item in items:
            self.push(item)

    def next_release_ms(self) -> int | None:
        return self._heap[0][0] if self._heap else None

    def pop_due(self, now_ms: int) -> list[T]:
        due: list[T] = []
        heap = self._heap
        while heap and heap[0][0] <= now_ms:
            item = heapq.heappop(heap)[2]
            self._bytes -= self._size(item)
            due.append(item)
        return due

    def pop_all(self) -> list[T]:
        """Everything held, in release order: what a stop or a kill switch flushes."""
        ordered = [entry[2] for entry in sorted(self._heap, key=lambda e: (e[0], e[1]))]
        self._heap.clear()
        self._bytes = 0
        return ordered
