"""Time as a value passed in, so tests can drive it and the runtime can use the wall clock."""

from __future__ import annotations

import time
from collections.abc import Callable

Clock = Callable[[], int]


def wall_clock_ms() -> int:
    # Epoch milliseconds, comparable with Kafka record timestamps and across processes.
    return time.time_ns() // 1_000_000
