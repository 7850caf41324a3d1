"""Delay: release the message later by a drawn amount.

The injector itself only draws the delay. Keeping later messages of the partition behind a
delayed one (`preserve_order`) is a property of the partition, not of this fault: a plain
pass-through must also wait. So the plan, not this module, keeps the per-partition release
floor and applies it to every emission.
"""

from __future__ import annotations

import random

from chaosbus.injectors.envelope import Emission, Envelope
from chaosbus.injectors.limits import MAX_DURATION_MS
from chaosbus.injectors.spec import (
    DelayFault,
    Distribution,
    ExponentialDelay,
    FixedDelay,
    SpikeDelay,
    UniformDelay,
)


def draw_delay(distribution: Distribution, rng: random.Random) -> int:
    """Draw a delay in whole milliseconds, never negative."""
    match distribution:
        case FixedDelay(ms=ms):
            return ms
        case UniformDelay(min_ms=low, max_ms=high):
            return rng.randint(low, high)
        case ExponentialDelay(mean_ms=mean):
            # The tail is unbounded; no delay may exceed the longest duration a file may name.
            return min(round(rng.expovariate(1.0 / mean)), MAX_DURATION_MS)
        case SpikeDelay():
            spike = rng.random() < distribution.spike_probability
            return distribution.spike_ms if spike else distribution.base_ms
    raise AssertionError(f"unhandled distribution {distribution!r}")  # pragma: no cover


def apply(
    config: DelayFault, envelope: Envelope, state: None, rng: random.Random, now_ms: int
) -> tuple[tuple[Emission, ...], None]:
    delay = draw_delay(config.distribution, rng)
    return (Emission(envelope, 0, now_ms + delay, delay),), state
