"""When the service had consumed each copy: the base a unit's settling counts from.

A unit is judged as state `settle_ms` after its events were due downstream. Due used to
mean "the interposer's copy was acknowledged by the broker", which assumes the service
reads the topic at once. A correct service that falls behind (a loaded machine, a slow
batch) then shows an older state after that instant, and the checker named it
`stale_overwrite`, `lost_event` or `resurrected`: a lie about a service whose every
final state was right. The copy was waiting in the service's queue, not lost.

With `monitor.service_group` the run samples the group's committed offsets; a commit past
a copy's destination offset says the service had consumed it by then (services commit
after applying, at least once). `Consumed` turns the samples into, per destination
partition, the first instant each offset was seen committed, and a copy is due no earlier
than that. A copy never seen committed leaves its unit pending (`index.AWAITING_SERVICE_MS`):
whether the service was stuck before it or merely behind, its lag says (`stalled_consumer`,
caught up or not), and a state it had not yet been given is no evidence either way.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable

from chaosbus.monitors.lag import LagSample


class Consumed:
    """Per partition of `route`'s destination: committed offsets, strictly increasing, and
    the instant each was first seen (`at_ms`, same index). Only that route's records wait
    for it: the group consumes one destination. Grows with `add` as samples arrive (the
    live checker); `from_samples` builds it at once (the batch verdict)."""

    __slots__ = ("at_ms", "committed", "route")

    def __init__(self, route: str) -> None:
        self.route = route
        self.committed: dict[int, list[int]] = {}
        self.at_ms: dict[int, list[int]] = {}

    @classmethod
    def from_samples(cls, route: str, samples: Iterable[LagSample]) -> Consumed:
        consumed = cls(route)
        # In time order: a commit is dated by the first sample that shows it.
        for sample in sorted(samples, key=lambda s: s.at_ms):
            consumed.add(sample)
        return consumed

    def add(self, sample: LagSample) -> None:
        """One more sample, later than those before it."""
        for partition, offset in sample.committed.items():
            offsets = self.committed.setdefault(partition, [])
            # A group reset may move a commit back; what was consumed stays consumed.
            if not offsets or offset > offsets[-1]:
                offsets.append(offset)
                self.at_ms.setdefault(partition, []).append(sample.at_ms)

    def consumed_at(self, partition: int, offset: int) -> int | None:
        """When the group was first seen committed past `offset` (None: never seen)."""
        offsets = self.committed.get(partition)
        if offsets is None:
            return None
        # A committed offset is the next one to read: past `offset` means above it.
        index = bisect_right(offsets, offset)
        return self.at_ms[partition][index] if index < len(offsets) else None

    def committed_now(self, partition: int) -> int | None:
        offsets = self.committed.get(partition)
        return offsets[-1] if offsets else None
