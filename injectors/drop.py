"""Drop: emit nothing. The only injector allowed to lose a message, and the ledger says so.

A burst models an outage rather than independent losses: once the drop fires, the next
`burst - 1` messages of the same partition that this fault matches are dropped as well,
without a new probability draw. The plan keeps one `DropState` per (fault, partition).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from chaosbus.injectors.envelope import Emission, Envelope
from chaosbus.injectors.spec import DropFault


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
