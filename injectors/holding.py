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
from collections.abc import Callable, Sequence
from typing import Any

from chaosbus.injectors.envelope import Emission, SourceCoordinates
from chaosbus.injectors.injector import Injector
from chaosbus.injectors.spec import Fault

Partition = tuple[str, int]
Step = Callable[[Any], tuple[Sequence[Emission], Any]]  # state -> (emissions, new state)
TimedStep = Callable[[Any, Any, int], tuple[Sequence[Emission], Any]]  # poll/flush
ObserveStep = Callable[[Any, Any, SourceCoordinates, int], tuple[Sequence[Emission], Any]]


def _timed(step: TimedStep, fault: Fault, now_ms: int) -> Step:
    return lambda state: step(fault, state, now_ms)


def _observed(observe: ObserveStep, fault: Fault, at: SourceCoordinates, now_ms: int) -> Step:
    return lambda state: observe(fault, state, at, now_ms)


class Holding:
    def __init__(self, faults: Sequence[Fault], injectors: Sequence[Injector[Any, Any]]) -> None:
        self._faults = tuple(faults)
        self._injectors = tuple(injectors)
        self._states: dict[tuple[int, str, int], Any] = {}
        self._floors: dict[Partition, int] = {}
        self._ready: dict[Partition, list[Emission]] = {}
        self._in_buffers = 0

    @property
    def held_count(self) -> int:
        return self._in_buffers + sum(len(ready) for ready in self._ready.values())

    def partitions(self) -> list[Partition]:
        """Every partition with any state, in a stable (sorted) order."""
        parts = {(topic, partition) for _, topic, partition in self._states}
        return sorted(parts | self._ready.keys())

    def state(self, index: int, part: Partition) -> Any:
        key = (index, *part)
        return self._states.get(key)

    def apply(self, index: int, part: Partition, step: Step) -> tuple[Emission, ...]:
        """Run `step(state) -> (emissions, state)` on one injector state, tracking holds."""
        injector = self._injectors[index]
        key = (index, *part)
        state = self._states[key] if key in self._states else injector.initial_state()
        before = injector.held(state) if injector.held else 0
        emitted, state = step(state)
        self._states[key] = state
        self._in_buffers += (injector.held(state) if injector.held else 0) - before
        return tuple(emitted)

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
        """
        if not expire_only:
            self._floors.pop(part, None)
        out: list[Emission] = []
        for index, injector in enumerate(self._injectors):
            if (index, *part) not in self._states:
                continue
            fault = self._faults[index]
            if expire_only and injector.observe is not None and position is not None:
                out.extend(
                    self.apply(index, part, _observed(injector.observe, fault, position, now_ms))
                )
            step = injector.poll if expire_only else injector.flush
            if step is not None:
                out.extend(self.apply(index, part, _timed(step, fault, now_ms)))
        if not expire_only:
            # Several reorder faults may hold parts of one partition; offset order is the
            # partition's own order, so a drain restores it.
            out.sort(key=lambda e: e.envelope.source.offset)
        if out:
            self._ready.setdefault(part, []).extend(self.floored(part, out))

    def settle(
        self, part: Partition, source: SourceCoordinates, emitted: Sequence[Emission]
    ) -> tuple[tuple[Emission, ...], int]:
        """Floor a decision's emissions; return (to send now, copies of `source` kept)."""
        floored = self.floored(part, emitted)
        foreign = any(e.envelope.source != source for e in floored)
        if not foreign and not self._ready.get(part):
            return floored, 0
        # Behind what is already ready, or part of a released window: keep the order.
        self._ready.setdefault(part, []).extend(floored)
        return (), sum(e.envelope.source == source for e in floored)

    def raise_floor(self, part: Partition, release_at_ms: int) -> None:
        self._floors[part] = max(self._floors.get(part, release_at_ms), release_at_ms)

    def take_ready(self, part: Partition) -> list[Emission]:
        return self._ready.pop(part, [])

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
