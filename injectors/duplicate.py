"""Duplicate: deliver the original and `copies` byte-identical extra copies.

Stateless. Copy 0 goes out at the decision time; copy n is released `spread_ms` or less
later, and copy numbers never go back in time, so downstream sees them in copy order.
"""

from __future__ import annotations

import random

from chaosbus.injectors.envelope import Emission, Envelope
from chaosbus.injectors.spec import DuplicateFault


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
