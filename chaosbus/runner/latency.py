"""Live end-to-end latency: source timestamp to the first poll that shows the event applied.

The batch checker computes the run's latency at the end; guardrails and the timeline need
it while the run goes on, from the same two facts (source events and observations). An
event counts as applied once its entity shows a version at least its own, so the figure
is an upper bound by up to one poll interval, as the monitors' own is.
"""

from __future__ import annotations

from collections import deque

from hdrh.histogram import HdrHistogram

from chaosbus.monitors.history import Number, Observation, SourceEvent
from chaosbus.monitors.metrics import MAX_LATENCY_MS
from chaosbus.monitors.report import Latency


class LiveLatency:
    """First-sighting latencies, kept with the time they were measured for windowed views."""

    def __init__(self, max_pending_per_entity: int = 1_000) -> None:
        self._pending: dict[str, deque[tuple[Number, int]]] = {}
        self._max_pending = max_pending_per_entity
        self.samples: list[tuple[int, int]] = []  # (measured at ms, latency ms)

    def on_source(self, event: SourceEvent) -> None:
        if event.is_delete or event.version is None:
            return
        queue = self._pending.setdefault(event.entity, deque(maxlen=self._max_pending))
        queue.append((event.version, event.timestamp_ms))

    def on_observation(self, observation: Observation) -> None:
        queue = self._pending.get(observation.entity)
        if not queue or observation.value is None:
            return
        kept: deque[tuple[Number, int]] = deque(maxlen=self._max_pending)
        for version, sent_ms in queue:
            if version <= observation.value:
                latency = max(observation.observed_at_ms - sent_ms, 0)
                self.samples.append((observation.observed_at_ms, latency))
            else:
                kept.append((version, sent_ms))
        self._pending[observation.entity] = kept

    def window(self, since_ms: int, until_ms: int | None = None) -> Latency:
        """p50/p99 of the latencies measured in `[since_ms, until_ms)`."""
        histogram = HdrHistogram(1, MAX_LATENCY_MS, 3)
        count = 0
        for at_ms, latency in reversed(self.samples):
            if at_ms < since_ms:
                break
            if until_ms is None or at_ms < until_ms:
                histogram.record_value(min(max(latency, 1), MAX_LATENCY_MS))
                count += 1
        if not count:
            return Latency()
        return Latency(
            p50=float(histogram.get_value_at_percentile(50)),
            p99=float(histogram.get_value_at_percentile(99)),
            count=count,
        )
