"""Per-partition holding state of a fault plan: injector states, release floors, ready lists.

Everything here is keyed by source partition, never shared between partitions, which is
what lets a plan decide identically however partitions interleave.

Three things a partition can hold:

* injector states (a reorder buffer, a drop burst), one per (fault index, partition);
* a release floor, raised by faults that floor the order (a `preserve_order` delay, a
  stall): no later emission of the partition is released before it;
* a ready list: emissions released by the plan itself (a reorder window that filled or
  expired, a drained buffer) waiting for the next `poll`/`flush`. While a partition's ready
  list is not empty, new emissions of that partition queue behind it, so a decision never
  overtakes messages released before it, and a `Decision` only ever carries emissions of
  its own source message.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from chaosbus.injectors.envelope import Emission, Envelope, SourceCoordinates
from chaosbus.injectors.injector import Injector
from chaosbus.injectors.spec import Fault

Partition = tuple[str, int]

_NO_STATE: Any = object()  # a partition the fault has not touched: its `initial_state()`


class Holding:
    def __init__(self, faults: Sequence[Fault], injectors: Sequence[Injector[Any, Any]]) -> None:
        self._faults = tuple(faults)
        self._injectors = tuple(injectors)
        self._states: dict[tuple[int, str, int], Any] = {}
        # Which faults have state on a partition, in file order: a decision on a partition
        # no fault has touched walks nothing, and one that some have walks only those.
        self._touched: dict[Partition, list[int]] = {}
        self._floors: dict[Partition, int] = {}
        self._ready: dict[Partition, list[Emission]] = {}
        self._in_buffers = 0
        self._in_ready = 0  # kept as it changes: `held_count` is read for every decision

    @property
    def held_count(self) -> int:
        return self._in_buffers + self._in_ready

    def partitions(self) -> list[Partition]:
        """Every partition with any state, in a stable (sorted) order."""
        return sorted(self._touched.keys() | self._ready.keys())

    def state(self, index: int, part: Partition) -> Any:
        return self._states.get((index, *part))

    def apply(
        self, index: int, part: Partition, envelope: Envelope, rng: Any, now_ms: int
    ) -> tuple[Emission, ...]:
        """Run fault `index`'s `apply` on its state of `part`, tracking what it holds."""
        injector = self._injectors[index]
        key, state, before = self._load(index, part, injector)
        emitted, state = injector.apply(self._faults[index], envelope, state, rng, now_ms)
        self._store(key, state, before, injector)
        return tuple(emitted)

    def _load(
        self, index: int, part: Partition, injector: Injector[Any, Any]
    ) -> tuple[tuple[int, str, int], Any, int]:
        key = (index, *part)
        state = self._states.get(key, _NO_STATE)
        if state is _NO_STATE:
            state = injector.initial_state()
            touched = self._touched.setdefault(part, [])
            touched.append(index)
            touched.sort()
        return key, state, injector.held(state) if injector.held else 0

    def _store(
        self, key: tuple[int, str, int], state: Any, before: int, injector: Injector[Any, Any]
    ) -> None:
        self._states[key] = state
        if injector.held:
            self._in_buffers += injector.held(state) - before

    def release_buffers(
        self,
        part: Partition,
        now_ms: int,
        *,
        expire_only: bool,
        position: SourceCoordinates | None = None,
    ) -> None:
        """Move what the partition's holding injectors release (by time, or all) to ready.

        `position` is the message about to be decided, for injectors that release by
        position (a replay due after N messages); a time-only poll passes None.

        Releasing all also lifts the partition's order floor: whoever drains the plan sends
        every pending delayed emission now too, so no later message has anything to wait for.

        Only the faults with state on the partition are asked, and each is called directly
        (no step closure per decision).
        """
        if not expire_only:
            self._floors.pop(part, None)
        touched = self._touched.get(part)
        if not touched:
            return
        out: list[Emission] = []
        injectors, faults = self._injectors, self._faults
        for index in touched:
            injector = injectors[index]
            fault = faults[index]
            if expire_only and injector.observe is not None and position is not None:
                key, state, before = self._load(index, part, injector)
                emitted, state = injector.observe(fault, state, position, now_ms)
                self._store(key, state, before, injector)
                out.extend(emitted)
            step = injector.poll if expire_only else injector.flush
            if step is not None:
                key, state, before = self._load(index, part, injector)
                emitted, state = step(fault, state, now_ms)
                self._store(key, state, before, injector)
                out.extend(emitted)
        if not expire_only:
            # Several reorder faults may hold parts of one partition; offset order is the
            # partition's own order, so a drain restores it.
            out.sort(key=lambda e: e.envelope.source.offset)
        if out:
            self._queue(part, self.floored(part, out))

    def settle(
        self, part: Partition, source: SourceCoordinates, emitted: Sequence[Emission]
    ) -> tuple[tuple[Emission, ...], int]:
        """Floor a decision's emissions; return (to send now, copies of `source` kept)."""
        floored = self.floored(part, emitted)
        if not self._ready.get(part) and all(e.envelope.source == source for e in floored):
            return floored, 0
        # Behind what is already ready, or part of a released window: keep the order.
        self._queue(part, floored)
        return (), sum(e.envelope.source == source for e in floored)

    def raise_floor(self, part: Partition, release_at_ms: int) -> None:
        self._floors[part] = max(self._floors.get(part, release_at_ms), release_at_ms)

    def take_ready(self, part: Partition) -> list[Emission]:
        ready = self._ready.pop(part, [])
        self._in_ready -= len(ready)
        return ready

    def _queue(self, part: Partition, emissions: Sequence[Emission]) -> None:
        self._ready.setdefault(part, []).extend(emissions)
        self._in_ready += len(emissions)

    def floored(self, part: Partition, emissions: Sequence[Emission]) -> tuple[Emission, ...]:
        """Hold emissions back to the partition's release floor, if it is later."""
        floor = self._floors.get(part)
        if floor is None:
            return tuple(emissions)
        return tuple(
            e
            if e.release_at_ms >= floor
            else dataclasses.replace(
                e,
                release_at_ms=floor,
                planned_delay_ms=e.planned_delay_ms + floor - e.release_at_ms,
            )
            for e in emissions
        )
