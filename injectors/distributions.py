"""Delay distributions: how long a delay (topics) or a latency (HTTP) waits, and its draw.

A distribution is declared by `kind` (`fixed`, `uniform`, `exponential`, `spike`); the draw
takes the decision's own RNG, so the same seed gives the same wait.
"""

from __future__ import annotations

import random
from typing import Annotated, Literal

from pydantic import Discriminator, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from chaosbus.injectors.limits import MAX_DURATION_MS, Millis, Probability, SpecModel


class FixedDelay(SpecModel):
    kind: Literal["fixed"] = "fixed"
    ms: Millis


class UniformDelay(SpecModel):
    kind: Literal["uniform"] = "uniform"
    min_ms: Millis
    max_ms: Millis

    @field_validator("max_ms")
    @classmethod
    def _not_below_min(cls, value: int, info: ValidationInfo) -> int:
        low = info.data.get("min_ms")
        if low is not None and value < low:
            raise PydanticCustomError(
                "max_below_min", "must be ≥ min_ms ({min_ms})", {"min_ms": low}
            )
        return value


class ExponentialDelay(SpecModel):
    kind: Literal["exponential"] = "exponential"
    mean_ms: float = Field(gt=0, le=MAX_DURATION_MS)


class SpikeDelay(SpecModel):
    kind: Literal["spike"] = "spike"
    base_ms: Millis
    spike_ms: Millis
    spike_probability: Probability


Distribution = Annotated[
    ExponentialDelay | FixedDelay | SpikeDelay | UniformDelay, Discriminator("kind")
]


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
