"""Drop: emit nothing. The only injector allowed to lose a message, and the ledger says so.

A burst models an outage rather than independent losses: once the drop fires, the next
`burst - 1` messages of the same partition that this fault matches are dropped as well,
without a new probability draw. The plan keeps one `DropState` per (fault, partition).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from chaosbus.injectors.base import FaultConfig
from chaosbus.injectors.envelope import Emission, Envelope
from chaosbus.injectors.injector import Injector, Told
from chaosbus.injectors.limits import MAX_BURST


class DropFault(FaultConfig):
    type: Literal["drop"] = "drop"
    burst: int = Field(default=1, ge=1, le=MAX_BURST, strict=True)


@dataclass(frozen=True, slots=True)
class DropState:
    remaining: int = 0  # messages of the current burst still to drop


def apply(
    config: DropFault, envelope: Envelope, state: DropState, rng: random.Random, now_ms: int
) -> tuple[tuple[Emission, ...], DropState]:
    remaining = state.remaining - 1 if state.remaining else config.burst - 1
    return (), DropState(remaining)


def forced(config: DropFault, state: DropState) -> bool:
    """A burst in progress takes the next matched message whatever the draw says."""
    return state.remaining > 0


def explain(told: Told) -> str:
    return f"one delivery of {told.event} dropped by {told.by}"


FAULT = Injector(
    config=DropFault,
    initial_state=DropState,
    apply=apply,
    explain=explain,
    forced=forced,
    ledgered=(),
)
