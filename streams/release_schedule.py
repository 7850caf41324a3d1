"""What is held until a logical release time: one min-heap for both delivery modes.

At-least-once keeps the held emissions themselves here; exactly-once keeps (release time,
source, copy number) entries of copies parked in Kafka. Ties keep the order in which they
were planned, so copies released together go out as they were decided.

What is due at the very time it is decided (every pass, a fault's first copy) need not enter
the heap at all: the caller keeps those in a list and hands them to `pop_due`/`pop_all` as
`placed` at the key (release time, `next_sequence`) they would have had, so the merged order
is the order the heap would have given, without a push and a pop per message.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
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
        self._sequence = 0
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._heap)

    @property
    def held_bytes(self) -> int:
        return self._bytes

    @property
    def next_sequence(self) -> int:
        """The tie-breaker the next pushed item gets: where items kept beside the heap
        belong among equal release times (see `placed`)."""
        return self._sequence

    def push(self, item: T) -> None:
        heapq.heappush(self._heap, (self._release_at(item), self._sequence, item))
        self._sequence += 1
        self._bytes += self._size(item)

    def push_all(self, items: Iterable[T]) -> None:
        for item in items:
            self.push(item)

    def next_release_ms(self) -> int | None:
        return self._heap[0][0] if self._heap else None

    def pop_due(self, now_ms: int, placed: Placed[T] | None = None) -> list[T]:
        """What is due by `now_ms`, in release order, with `placed` merged in at its key."""
        due: list[tuple[int, int, T]] = []
        heap = self._heap
        while heap and heap[0][0] <= now_ms:
            entry = heapq.heappop(heap)
            self._bytes -= self._size(entry[2])
            due.append(entry)
        return _merged(due, placed)

    def pop_all(self, placed: Placed[T] | None = None) -> list[T]:
        """Everything held, in release order: what a stop or a kill switch flushes."""
        ordered = sorted(self._heap, key=lambda e: (e[0], e[1]))
        self._heap.clear()
        self._bytes = 0
        return _merged(ordered, placed)


Placed = tuple[int, int, Sequence[T]]
"""(release time, sequence, items): items kept beside the heap, all due at that release time,
in the order they would have been pushed from that sequence number on."""


def _merged(entries: list[tuple[int, int, T]], placed: Placed[T] | None) -> list[T]:
    if not placed or not placed[2]:
        return [entry[2] for entry in entries]
    release_at, sequence, items = placed
    # Entries are in (release time, sequence) order; no entry has the placed key itself.
    at = bisect_left(entries, (release_at, sequence), key=lambda e: (e[0], e[1]))
    return [
        *(entry[2] for entry in entries[:at]),
        *items,
        *(entry[2] for entry in entries[at:]),
    ]
