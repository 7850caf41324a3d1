"""Messages a fault keeps back inside the plan, and their release as one group.

Shared by the injectors that buffer (reorder, outage): a group comes out at one logical
time, shuffled by a given RNG or in arrival order, each emission's planned delay measured
from when its message was read, so the ledger shows how long it was actually kept back.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from chaosbus.injectors.envelope import Emission, Envelope


@dataclass(frozen=True, slots=True)
class Held:
    envelope: Envelope
    held_at_ms: int


def release(held: tuple[Held, ...], rng: random.Random | None, now_ms: int) -> tuple[Emission, ...]:
    order = list(held)
    if rng is not None:
        rng.shuffle(order)
    return tuple(Emission(h.envelope, 0, now_ms, now_ms - h.held_at_ms) for h in order)
