"""Metrics beside the anomalies: latency, and time to recovery.

Latency is measured from the source timestamp to the first downstream sighting: the first
effect naming the event, or (entity model) the first observation showing its version.
Observations are polled, so that latency is an upper bound by up to one poll interval.
Staleness is computed by the entity checker per unit and aggregated in `tally`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from operator import attrgetter

from hdrh.histogram import HdrHistogram

from chaosbus.monitors.history import Number
from chaosbus.monitors.index import UnitFacts
from chaosbus.monitors.report import Latency

_IS_DELETE = attrgetter("is_delete")
_VERSION = attrgetter("version")
_TIMESTAMP = attrgetter("timestamp_ms")

# Latencies above an hour are recorded as an hour: they mean "never, in practice".
MAX_LATENCY_MS = 3_600_000


class LatencyRecorder:
    """An HDR histogram of milliseconds (3 significant digits).

    Samples are counted first and fed to the histogram per distinct value: latencies in
    whole milliseconds repeat a lot, and one `record_value` call costs a microsecond.
    """

    def __init__(self) -> None:
        self._counts: Counter[int] = Counter()

    def record(self, latency_ms: int) -> None:
        self._counts[latency_ms] += 1

    def extend(self, latencies: Iterable[int]) -> None:
        self._counts.update(latencies)

    def summary(self) -> Latency:
        if not self._counts:
            return Latency()
        histogram = HdrHistogram(1, MAX_LATENCY_MS, 3)
        for latency_ms, count in self._counts.items():
            # Producer and monitor clocks may disagree a little: a negative latency is 0.
            histogram.record_value(min(max(latency_ms, 0), MAX_LATENCY_MS), count)
        return Latency(
            p50=float(histogram.get_value_at_percentile(50)),
            p99=float(histogram.get_value_at_percentile(99)),
            count=int(histogram.get_total_count()),
        )


def latencies(facts: UnitFacts, *, observed_versions: bool) -> Iterator[int]:
    """First-sighting latencies of one unit's events."""
    first_seen = {eid: min(e.observed_at_ms for e in found) for eid, found in facts.effects.items()}
    if first_seen:
        for event in facts.events:
            seen = first_seen.get(event.event_id)
            if seen is not None:
                yield seen - event.timestamp_ms
    if not observed_versions or not facts.observations:
        return
    # The first event carrying a version is the one whose arrival the observation shows
    # (the events are walked backwards so that the first one is the one the dict keeps).
    events = facts.events
    pending: dict[Number | None, int]
    plain = not first_seen and not any(map(_IS_DELETE, events))
    if plain and len(facts.observations) == 1:
        # One look at the unit (the usual batch case): find its version's first event in C.
        look = facts.observations[0]
        if look.value is not None:
            versions = list(map(_VERSION, events))
            if look.value in versions:
                yield look.observed_at_ms - events[versions.index(look.value)].timestamp_ms
        return
    if plain:
        # The common shape, built in C: later pairs overwrite earlier ones, so walking
        # backwards leaves each version with its first event, as the loop below does.
        backwards = events[::-1]
        pending = dict(zip(map(_VERSION, backwards), map(_TIMESTAMP, backwards), strict=True))
    else:
        pending = {
            e.version: e.timestamp_ms
            for e in reversed(events)
            if not e.is_delete and e.event_id not in first_seen
        }
    for observation in facts.observations:
        sent = pending.pop(observation.value, None) if observation.value is not None else None
        if sent is not None:
            yield observation.observed_at_ms - sent


def time_to_recovery(
    checks: Sequence[tuple[int, bool]], injection_end_ms: int, settle_ms: int
) -> float | None:
    """Seconds from the end of injection until every check stays clean, or None.

    `checks` are (time in ms, clean) results in any order. Recovery is the later of the
    end of injection and the first clean check after the last dirty one; it only counts
    when the checks go on being clean for `settle_ms` after it. Recovery before the end
    of injection is not credited: the clock starts when the faults stop, and a run
    with no dirty check at all recovers in 0 s.
    """
    ordered = sorted(checks)
    if not ordered:
        return None
    last_dirty = max((i for i, (_, clean) in enumerate(ordered) if not clean), default=-1)
    if last_dirty == len(ordered) - 1:
        return None
    first_clean = ordered[last_dirty + 1][0] if last_dirty >= 0 else injection_end_ms
    recovered_at = max(injection_end_ms, first_clean)
    if ordered[-1][0] - recovered_at < settle_ms:
        return None
    return (recovered_at - injection_end_ms) / 1000
