"""What both interposers (at-least-once and exactly-once) do between batches: pause reading
while too much is held, say how long to wait for the next release, and log a status line."""

from __future__ import annotations

import logging
from collections import Counter

from chaosbus.streams.transport import Consumer

MAX_WAIT_MS = 100
RESUME_FRACTION = 0.8

log = logging.getLogger("chaosbus.streams.interposer")


class Pacing:
    """Backpressure and the status line of one route's consumer."""

    def __init__(
        self,
        route_name: str,
        counts: Counter[str],
        *,
        max_held_messages: int,
        max_held_bytes: int,
        status_interval_ms: int,
    ) -> None:
        self._route_name = route_name
        self._counts = counts
        self._max_messages = max_held_messages
        self._max_bytes = max_held_bytes
        self._status_interval_ms = status_interval_ms
        self._paused = False
        self._last_status_ms = 0

    def apply_backpressure(self, consumer: Consumer, held: int, held_bytes: int) -> None:
        """At the bound, stop fetching rather than drop; resume once well below it."""
        over = held >= self._max_messages or held_bytes >= self._max_bytes
        if over and not self._paused:
            consumer.pause(*consumer.assignment())
            self._paused = True
            self._counts["backpressure_pauses"] += 1
        elif self._paused and not over and held < self._max_messages * RESUME_FRACTION:
            consumer.resume(*consumer.assignment())
            self._paused = False

    def log_status_if_due(self, now_ms: int, *, held: int, in_flight: int) -> None:
        if now_ms - self._last_status_ms < self._status_interval_ms:
            return
        self._last_status_ms = now_ms
        decisions = " ".join(f"{k}={v}" for k, v in sorted(self._counts.items()))
        # Tests and operators read this line: "<route> held=N in_flight=N <fault>=N …".
        log.info("%s held=%d in_flight=%d %s", self._route_name, held, in_flight, decisions)


def wait_ms(next_release_ms: int | None, now_ms: int) -> int:
    """How long one poll may block: until the next held emission is due, at most 100 ms."""
    if next_release_ms is None:
        return MAX_WAIT_MS
    return max(0, min(MAX_WAIT_MS, next_release_ms - now_ms))
