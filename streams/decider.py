"""What the interposer asks of a fault plan, as a structural protocol.

`injectors.plan.FaultPlan` satisfies it; `PassThrough` is the plan with no faults, used by a
plain proxy and whenever injection is switched off.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Protocol

from chaosbus.injectors.envelope import Emission, Envelope, SourceCoordinates


class DecisionLike(Protocol):
    @property
    def source(self) -> SourceCoordinates: ...
    @property
    def fault(self) -> str: ...
    @property
    def emissions(self) -> Sequence[Emission]: ...
    @property
    def held(self) -> int: ...
    @property
    def reason(self) -> str | None: ...
    @property
    def fault_name(self) -> str | None: ...


class Decider(Protocol):
    enabled: bool

    def decide(self, envelope: Envelope, now_ms: int) -> DecisionLike: ...
    def poll(self, now_ms: int) -> list[Emission]: ...
    def flush(self, now_ms: int) -> list[Emission]: ...
    @property
    def held_count(self) -> int: ...
    @property
    def fault_names(self) -> tuple[str, ...]: ...
    def pause(self, names: Collection[str]) -> bool:
        """Pass what the named faults would take (an operator's pause); True when one of
        this plan's faults is newly paused."""
        ...


@dataclass(frozen=True, slots=True)
class PassDecision:
    source: SourceCoordinates
    emissions: tuple[Emission, ...]
    fault: str = "pass"
    held: int = 0
    reason: str | None = None
    fault_name: str | None = None


class PassThrough:
    """Forwards every message unchanged, at once."""

    enabled = True
    held_count = 0
    fault_names: tuple[str, ...] = ()

    def pause(self, names: Collection[str]) -> bool:
        return False

    def decide(self, envelope: Envelope, now_ms: int) -> PassDecision:
        return PassDecision(envelope.source, (Emission(envelope, 0, now_ms),))

    def poll(self, now_ms: int) -> list[Emission]:
        return []

    def flush(self, now_ms: int) -> list[Emission]:
        return []
