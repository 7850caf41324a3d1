"""The fault plan: which fault, if any, each source message gets. What the runtime calls.

For each envelope the faults are considered in file order; the first whose `match` selects
the message and whose probability draw fires takes the decision, otherwise the message
passes. One uniform draw per fault comes from the message's decision stream (`rng`), always
all of them and always first, so a decision does not shift when intensity, caps or earlier
matches change; the injector of a fault that fires continues with the same stream. That
loop, with count triggers and caps, is `injectors.selection`, shared with the HTTP plan;
what each fault does and which capabilities it has is its registry entry
(`injectors.registry`), so nothing here names a fault.

Determinism: every piece of injector state (reorder buffers, drop bursts, the delay release
floor) is kept per source partition, so the same seed and the same per-partition input order
give the same decisions however partitions interleave. The exception is the blast radius:
its counters (faulted messages, seen and touched keys) are shared by the whole plan, so
once a cap binds, which message is refused depends on the cross-partition interleaving.

Caps are per plan instance, i.e. per interposer process: replicas do not share counters,
so N replicas may together fault up to N times `max_faults` (and `max_faults_per_s`). A cap
that binds turns the fault into a pass whose `reason` names the cap (`blast.CAPS`); the
ledger carries it and `suppressed` counts those passes by cap, for the report.

A `Decision` carries only emissions of its own source message: `len(emissions) + held` is
the number of copies of that message that will come out. Copies kept inside the plan (in a
reorder buffer, or queued behind messages the plan released earlier) come out of a later
`poll()` or `flush()`, which the runtime must call regularly (every pump) and on stop/kill.

Time is logical and passed in (`now_ms`); nothing here reads a clock. Emissions may carry a
`release_at_ms` in the future (or slightly in the past, from poll); the runtime must send the
emissions of one partition by `release_at_ms`, ties in the order the plan returned them.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from chaosbus.injectors.envelope import Emission, Envelope, SourceCoordinates
from chaosbus.injectors.errors import ProtectedTopicError, SpecError
from chaosbus.injectors.holding import Holding, Partition
from chaosbus.injectors.injector import Injector
from chaosbus.injectors.match import Payload, evaluate
from chaosbus.injectors.registry import COUNT_KEYS as COUNT_KEYS
from chaosbus.injectors.registry import FAULT_TYPES as FAULT_TYPES
from chaosbus.injectors.registry import INJECTORS
from chaosbus.injectors.rng import DecisionSource
from chaosbus.injectors.selection import Selector
from chaosbus.injectors.spec import BlastRadius, Fault, FaultFile


@dataclass(frozen=True, slots=True)
class Decision:
    source: SourceCoordinates
    fault: str  # "pass" or one of FAULT_TYPES
    emissions: tuple[Emission, ...]  # copies of this message to schedule now
    held: int  # further copies of this message kept inside the plan, out via poll()/flush()
    # Why the message passed although a fault could apply: "non_json", "protected_topic",
    # "disabled", "paused" (an operator paused the fault that would have taken it), or the
    # cap that refused it (blast.CAPS: "max_faults", "max_key_share", "max_faults_per_s",
    # "max_copies_per_message"); None otherwise.
    reason: str | None
    fault_name: str | None  # the fault's `name`, else "faults[i]"; None for a pass


class FaultPlan:
    """Mutable and single-threaded: call it from one task (the interposer's)."""

    def __init__(
        self,
        faults: Sequence[Fault],
        blast_radius: BlastRadius,
        seed: int,
        *,
        route_id: str | None = None,
    ) -> None:
        # Decisions are keyed on (seed, route id, partition, offset); the route id defaults to
        # the source topic and can be pinned, so a run replays on a topic of another name.
        self.route_id = route_id
        self._streams = DecisionSource(seed)
        self.enabled = True  # False: the kill switch; every decide() passes
        self._faults = tuple(faults)
        self._injectors: tuple[Injector[Any, Any], ...] = tuple(
            INJECTORS[fault.type] for fault in self._faults
        )
        self._names = tuple(f.name or f"faults[{i}]" for i, f in enumerate(self._faults))
        self._selector = Selector(
            self._faults,
            blast_radius,
            forcible=(i for i, injector in enumerate(self._injectors) if injector.forced),
        )
        self._guard = self._selector.guard
        self._holding = Holding(self._faults, self._injectors)
        # Only faults that can seize a partition are asked whether they have (none, mostly).
        self._seizing = tuple(i for i, inj in enumerate(self._injectors) if inj.seizes)
        self._intensity = 1.0
        self._counts = dict.fromkeys(COUNT_KEYS, 0)

    @classmethod
    def from_file(
        cls, fault_file: FaultFile, seed: int | None = None, *, route_id: str | None = None
    ) -> FaultPlan:
        """Build a plan; an explicit `seed` overrides the file's. One of them is required."""
        chosen = fault_file.seed if seed is None else seed
        if chosen is None:
            raise SpecError(["seed: required (in the file or passed by the caller)"])
        return cls(fault_file.faults, fault_file.blast_radius, chosen, route_id=route_id)

    @property
    def seed(self) -> int:
        return self._streams.seed

    @property
    def intensity(self) -> float:
        """Multiplies every probability (ramps); 0 injects nothing, not even a burst."""
        return self._intensity

    @intensity.setter
    def intensity(self, value: float) -> None:
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"intensity must be within [0, 1], got {value}")
        self._intensity = value

    @property
    def fault_names(self) -> tuple[str, ...]:
        """Each fault's name as decisions carry it: its `name`, else `faults[i]`."""
        return self._names

    def pause(self, names: Collection[str]) -> bool:
        """Pass, from the next decision on, what the named faults would take (reason
        `paused`); True when a fault of this plan was paused that was not before (what it
        holds should then be released, as the kill switch does)."""
        paused = frozenset(i for i, name in enumerate(self._names) if name in names)
        newly = bool(paused - self._selector.paused)
        self._selector.paused = paused
        return newly

    @property
    def held_count(self) -> int:
        """Copies kept inside the plan, to come out of poll() or flush()."""
        return self._holding.held_count

    @property
    def counts(self) -> Mapping[str, int]:
        """Decisions by fault type, "pass" included, plus "non_json" passes (a live view)."""
        return MappingProxyType(self._counts)

    @property
    def suppressed(self) -> Mapping[str, int]:
        """Faults the blast radius turned into passes, by cap (a live view)."""
        return MappingProxyType(self._selector.suppressed)

    def check_routes(self, routes: Sequence[tuple[str, str]]) -> None:
        """Refuse routes that read or write a protected topic while any fault is declared."""
        if not self._faults:
            return
        for route in routes:
            for topic in (route[1], route[0]):
                glob = self._guard.protecting_glob(topic)
                if glob is not None:
                    raise ProtectedTopicError(route, topic, glob)

    def decide(self, envelope: Envelope, now_ms: int) -> Decision:
        """Decide the fate of one source message read at logical time `now_ms`."""
        source = envelope.source
        part = (source.topic, source.partition)
        # Expire (or, when disabled, drain) this partition's buffers before deciding, so
        # which messages share a window does not depend on how often poll() is called.
        self._holding.release_buffers(part, now_ms, expire_only=self.enabled, position=source)
        if not self.enabled:
            return self._pass(envelope, now_ms, "disabled")
        if self._faults and self._guard.protecting_glob(source.topic) is not None:
            return self._pass(envelope, now_ms, "protected_topic")
        if not self._faults:  # nothing to draw for: a pass needs no randomness
            return self._pass(envelope, now_ms, None)
        stream = self._streams.stream(
            self.route_id or source.topic, source.partition, source.offset
        )
        payload = Payload(envelope.value)
        choice = self._selector.choose(
            stream,
            part,
            envelope.key,
            now_ms,
            intensity=self._intensity,
            judge=lambda fault: evaluate(fault.match, envelope, payload),
            forced=lambda index: self._forced(index, part),
            seized=self._seized(part) if self._seizing else None,
            extra_copies=self._extra_copies,
        )
        if choice.chosen is None:
            return self._pass(envelope, now_ms, choice.reason)
        return self._inject(choice.chosen, envelope, stream, now_ms)

    def poll(self, now_ms: int) -> list[Emission]:
        """Everything released since the last call, and buffers expired by `within_ms`."""
        out: list[Emission] = []
        for part in self._holding.partitions():
            self._holding.release_buffers(part, now_ms, expire_only=True)
            out.extend(self._holding.take_ready(part))
        return out

    def flush(self, now_ms: int) -> list[Emission]:
        """Everything held, released at `now_ms` in each partition's own order.

        The caller releases its own pending delayed emissions at the same time (a stop or a
        kill), so the order floors of `preserve_order` delays are lifted as well.
        """
        out: list[Emission] = []
        for part in self._holding.partitions():
            self._holding.release_buffers(part, now_ms, expire_only=False)
            out.extend(self._holding.take_ready(part))
        return out

    def _forced(self, index: int, part: Partition) -> bool:
        """A burst or an outage in progress takes the message whatever the draw says."""
        forced = self._injectors[index].forced
        state = self._holding.state(index, part)
        return forced is not None and state is not None and forced(self._faults[index], state)

    def _seized(self, part: Partition) -> int | None:
        """The fault whose state has taken the whole partition (a stall), if any."""
        for index in self._seizing:
            seizes = self._injectors[index].seizes
            state = self._holding.state(index, part)
            if seizes is not None and state is not None and seizes(self._faults[index], state):
                return index
        return None

    def _extra_copies(self, index: int) -> int:
        return int(self._injectors[index].extra_copies(self._faults[index]))

    def _inject(self, chosen: int, envelope: Envelope, rng: random.Random, now_ms: int) -> Decision:
        fault, injector = self._faults[chosen], self._injectors[chosen]
        source = envelope.source
        part = (source.topic, source.partition)
        buffered = self._holding.held_count
        emitted = self._holding.apply(chosen, part, envelope, rng, now_ms)
        # Negative when this message completed a reorder window and emptied the buffer.
        held = max(self._holding.held_count - buffered, 0)
        self._counts[fault.type] += 1
        if emitted and injector.floors_order(fault):
            # Raised from the floored time, so successive delays never lower the floor.
            own = self._holding.floored(part, emitted)
            self._holding.raise_floor(part, max(e.release_at_ms for e in own))
        now, kept = self._holding.settle(part, source, emitted)
        return Decision(source, fault.type, now, held + kept, None, self._names[chosen])

    def _pass(self, envelope: Envelope, now_ms: int, reason: str | None) -> Decision:
        self._counts["pass"] += 1
        if reason == "non_json":
            self._counts["non_json"] += 1
        source = envelope.source
        part = (source.topic, source.partition)
        now, kept = self._holding.settle(part, source, (Emission(envelope, 0, now_ms),))
        return Decision(source, "pass", now, kept, reason, None)
