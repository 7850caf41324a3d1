"""Delay: release the message later by a drawn amount.

The injector itself only draws the delay. Keeping later messages of the partition behind a
delayed one (`preserve_order`) is a property of the partition, not of this fault: a plain
pass-through must also wait. So the fault says that it floors the order (`floors_order`), and
the plan keeps the per-partition release floor and applies it to every emission.
"""

from __future__ import annotations

import random
from typing import Literal

from pydantic import StrictBool

from chaosbus.injectors.base import FaultConfig
from chaosbus.injectors.distributions import Distribution, draw_delay
from chaosbus.injectors.envelope import Emission, Envelope
from chaosbus.injectors.injector import Injector, Told, no_state

__all__ = ["FAULT", "DelayFault", "apply", "draw_delay", "explain", "floors_order"]


class DelayFault(FaultConfig):
    type: Literal["delay"] = "delay"
    distribution: Distribution
    preserve_order: StrictBool = True


def apply(
    config: DelayFault, envelope: Envelope, state: None, rng: random.Random, now_ms: int
) -> tuple[tuple[Emission, ...], None]:
    delay = draw_delay(config.distribution, rng)
    return (Emission(envelope, 0, now_ms + delay, delay),), state


def floors_order(config: DelayFault) -> bool:
    return config.preserve_order


def explain(told: Told) -> str:
    return f"{told.event} delayed {told.late} by {told.by}"


FAULT = Injector(
    config=DelayFault,
    initial_state=no_state,
    apply=apply,
    explain=explain,
    floors_order=floors_order,
)
