"""Duplicate: deliver the original and `copies` byte-identical extra copies.

Stateless. Copy 0 goes out at the decision time; copy n is released `spread_ms` or less
later, and copy numbers never go back in time, so downstream sees them in copy order.
Models a platform that retries on a timeout although the first delivery arrived.
"""

from __future__ import annotations

import random
from typing import Literal

from pydantic import Field

from chaosbus.injectors.base import FaultConfig
from chaosbus.injectors.envelope import Emission, Envelope
from chaosbus.injectors.injector import Injector, Told, no_state
from chaosbus.injectors.limits import MAX_COPIES, Millis


class DuplicateFault(FaultConfig):
    type: Literal["duplicate"] = "duplicate"
    copies: int = Field(default=1, ge=1, le=MAX_COPIES, strict=True)
    spread_ms: Millis = 0


def apply(
    config: DuplicateFault, envelope: Envelope, state: None, rng: random.Random, now_ms: int
) -> tuple[tuple[Emission, ...], None]:
    if config.spread_ms:
        offsets = sorted(rng.randint(0, config.spread_ms) for _ in range(config.copies))
    else:
        offsets = [0] * config.copies
    extra = (
        Emission(envelope, copy, now_ms + offset, offset)
        for copy, offset in enumerate(offsets, start=1)
    )
    return (Emission(envelope, 0, now_ms), *extra), state


def extra_copies(config: DuplicateFault) -> int:
    return config.copies


def explain(told: Told) -> str:
    return f"{told.event} {told.copies} by {told.by}"


FAULT = Injector(
    config=DuplicateFault,
    initial_state=no_state,
    apply=apply,
    explain=explain,
    extra_copies=extra_copies,
    ledgered=(None, None),
)
