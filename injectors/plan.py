"""The fault plan: which fault, if any, each source message gets. What the runtime calls.

For each envelope the faults are considered in file order; the first whose `match` selects
the message and whose probability draw fires takes the decision, otherwise the message
passes. One uniform draw per fault is taken from the decision RNG, always all of them and
always first, so a decision does not shift when intensity, caps or earlier matches change;
the injector then continues with the same RNG.

Determinism: every piece of injector state (reorder buffers, drop bursts, the delay release
floor) is kept per source partition, so the same seed and the same per-partition input order
give the same decisions however partitions interleave. The exception is the blast radius:
its counters (faulted messages, seen and touched keys) are shared by the whole plan, so
once a cap binds, which message is refused depends on the cross-partition interleaving.

Caps are per plan instance, i.e. per interposer process: replicas do not share counters,
so N replicas may together fault up to N times `max_faults`.

Time is logical and passed in (`now_ms`); nothing here reads a clock. Emissions may carry a
`release_at_ms` in the future; the runtime must send emissions of one partition in
(`release_at_ms`, order returned) order, ties broken by the order returned.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from injectors.blast import BlastGuard
from injectors.envelope import Emission, Envelope, SourceCoordinates
from injectors.errors import ProtectedTopicError, SpecError
from injectors.match import Payload, Verdict, evaluate
from injectors.registry import INJECTORS, Injector
from injectors.rng import decision_rng
from injectors.spec import BlastRadius, DelayFault, Fault, FaultFile

FAULT_TYPES = ("duplicate", "reorder", "delay", "drop")
COUNT_KEYS = ("pass", *FAULT_TYPES, "non_json")

_Partition = tuple[str, int]
_StateKey = tuple[int, str, int]  # (fault index, topic, partition)


@dataclass(frozen=True, slots=True)
class Decision:
    source: SourceCoordinates
    fault: str  # "pass" | "duplicate" | "reorder" | "delay" | "drop"
    # To schedule now. May include messages held by earlier decisions of the same
    # partition (a reorder window that this message filled or that expired).
    emissions: tuple[Emission, ...]
    held: int  # copies of this message kept inside the plan, released by poll()/flush()
    # Why the message passed although a fault could apply: "non_json", "protected_topic",
    # "max_faults", "max_key_share", "disabled"; None otherwise.
    reason: str | None
    fault_name: str | None  # the fault's `name`, else "faults[i]"; None for a pass


class FaultPlan:
    """Mutable, single-threaded: call it from one task (the interposer's)."""

    def __init__(self, faults: Sequence[Fault], blast_radius: BlastRadius, seed: int) -> None:
        self.seed = seed
        self.enabled = True
        self._faults = tuple(faults)
        self._injectors: tuple[Injector[Any, Any], ...] = tuple(
            INJECTORS[fault.type] for fault in self._faults
        )
        self._names = tuple(f.name or f"faults[{i}]" for i, f in enumerate(self._faults))
        self._guard = BlastGuard(blast_radius)
        self._intensity = 1.0
        self._states: dict[_StateKey, Any] = {}
        self._floors: dict[_Partition, int] = {}
        self._held = 0
        self._counts = dict.fromkeys(COUNT_KEYS, 0)

    @classmethod
    def from_file(cls, fault_file: FaultFile, seed: int | None = None) -> FaultPlan:
        """Build a plan; an explicit `seed` overrides the file's. One of them is required."""
        chosen = fault_file.seed if seed is None else seed
        if chosen is None:
            raise SpecError(["seed: required (in the file or passed by the caller)"])
        return cls(fault_file.faults, fault_file.blast_radius, chosen)

    @property
    def intensity(self) -> float:
        return self._intensity

    @intensity.setter
    def intensity(self, value: float) -> None:
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"intensity must be within [0, 1], got {value}")
        self._intensity = value

    @property
    def held_count(self) -> int:
        return self._held

    @property
    def counts(self) -> Mapping[str, int]:
        return MappingProxyType(self._counts)

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
        released = self._release(part, now_ms, expire_only=self.enabled)
        if not self.enabled:
            return self._pass(envelope, now_ms, released, "disabled")
        if self._faults and self._guard.protecting_glob(source.topic) is not None:
            return self._pass(envelope, now_ms, released, "protected_topic")
        rng = decision_rng(self.seed, source.topic, source.partition, source.offset)
        draws = [rng.random() for _ in self._faults]
        self._guard.see(envelope.key)
        chosen, non_json = self._choose(envelope, part, draws)
        if chosen is None:
            return self._pass(envelope, now_ms, released, "non_json" if non_json else None)
        refusal = self._guard.refusal(envelope.key)
        if refusal is not None:
            return self._pass(envelope, now_ms, released, refusal)
        own, held = self._inject(chosen, envelope, rng, now_ms)
        name = self._names[chosen]
        return Decision(source, self._faults[chosen].type, released + own, held, None, name)

    def _inject(
        self, chosen: int, envelope: Envelope, rng: random.Random, now_ms: int
    ) -> tuple[tuple[Emission, ...], int]:
        """Run the chosen injector on its partition state; return its emissions and holds."""
        fault, injector = self._faults[chosen], self._injectors[chosen]
        part = (envelope.source.topic, envelope.source.partition)
        key = (chosen, *part)
        state = self._states[key] if key in self._states else injector.initial_state()
        before = injector.held(state) if injector.held else 0
        emitted, state = injector.apply(fault, envelope, state, rng, now_ms)
        self._states[key] = state
        change = (injector.held(state) if injector.held else 0) - before
        self._held += change
        self._guard.record(envelope.key)
        self._counts[fault.type] += 1
        own = self._floored(part, emitted)
        if isinstance(fault, DelayFault) and fault.preserve_order and own:
            floor = max(e.release_at_ms for e in own)
            self._floors[part] = max(self._floors.get(part, floor), floor)
        # A negative change means this message completed a window and left nothing held.
        return own, max(change, 0)

    def poll(self, now_ms: int) -> list[Emission]:
        """Release what has waited long enough (reorder `within_ms`), partition by partition."""
        partitions = sorted({(topic, partition) for _, topic, partition in self._states})
        return [e for part in partitions for e in self._release(part, now_ms, expire_only=True)]

    def flush(self, now_ms: int) -> list[Emission]:
        """Release everything held at `now_ms` (later if a preserve_order delay is pending)."""
        partitions = sorted({(topic, partition) for _, topic, partition in self._states})
        return [e for part in partitions for e in self._release(part, now_ms, expire_only=False)]

    def _choose(
        self, envelope: Envelope, part: _Partition, draws: list[float]
    ) -> tuple[int | None, bool]:
        payload = Payload(envelope.value)
        non_json = False
        for index, fault in enumerate(self._faults):
            verdict = evaluate(fault.match, envelope, payload)
            if verdict is Verdict.NON_JSON:
                non_json = True
            if verdict is not Verdict.MATCH or self._intensity <= 0.0:
                continue
            injector = self._injectors[index]
            key = (index, *part)
            forced = injector.forced
            if forced is not None and key in self._states and forced(fault, self._states[key]):
                return index, non_json
            if draws[index] < fault.probability * self._intensity:
                return index, non_json
        return None, non_json

    def _pass(
        self, envelope: Envelope, now_ms: int, released: tuple[Emission, ...], reason: str | None
    ) -> Decision:
        self._counts["pass"] += 1
        if reason == "non_json":
            self._counts["non_json"] += 1
        part = (envelope.source.topic, envelope.source.partition)
        own = self._floored(part, (Emission(envelope, 0, now_ms),))
        return Decision(envelope.source, "pass", released + own, 0, reason, None)

    def _release(self, part: _Partition, now_ms: int, *, expire_only: bool) -> tuple[Emission, ...]:
        """Poll (expire_only) or flush the holding injectors of one partition."""
        out: list[Emission] = []
        for index, injector in enumerate(self._injectors):
            step = injector.poll if expire_only else injector.flush
            key = (index, *part)
            if step is None or key not in self._states:
                continue
            state = self._states[key]
            before = injector.held(state) if injector.held else 0
            emitted, self._states[key] = step(self._faults[index], state, now_ms)
            self._held -= before - (injector.held(self._states[key]) if injector.held else 0)
            out.extend(emitted)
        if not expire_only:
            # Several reorder faults may hold parts of one partition: offset order is the
            # order the partition had, so a flush restores it.
            out.sort(key=lambda e: e.envelope.source.offset)
        return self._floored(part, tuple(out))

    def _floored(self, part: _Partition, emissions: tuple[Emission, ...]) -> tuple[Emission, ...]:
        """Hold emissions back to the partition's release floor (set by preserve_order delays)."""
        floor = self._floors.get(part)
        if floor is None:
            return emissions
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
