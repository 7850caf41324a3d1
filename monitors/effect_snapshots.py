"""Effects read as a listing (a table, an endpoint) turned into a stream of new effects.

An effects topic is a stream: each message is one effect, read once. A table of effects or
an endpoint listing them is a snapshot: every read returns everything so far. Each read is
compared with what was already fed, and only the effects beyond it are new, stamped with
the time they were first seen. The first read of a run is its baseline: effects that were
there before the run started are not the run's. Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from chaosbus.monitors.history import Effect


class EffectSnapshots:
    def __init__(self, baseline: Iterable[Effect] = ()) -> None:
        self._seen: Counter[str] = Counter(effect.event_id for effect in baseline)

    def new(self, snapshot: Iterable[Effect]) -> list[Effect]:
        """The effects of `snapshot` not counted before (an id listed more often than
        before is new as many times); a listing that shrank is not undone."""
        listed: Counter[str] = Counter()
        fresh: list[Effect] = []
        for effect in snapshot:
            listed[effect.event_id] += 1
            if listed[effect.event_id] > self._seen[effect.event_id]:
                fresh.append(effect)
        for event_id, count in listed.items():
            if count > self._seen[event_id]:
                self._seen[event_id] = count
        return fresh
