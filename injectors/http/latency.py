"""Latency: forward after a drawn wait, a slow service (`distribution` as for topic delays)."""

from __future__ import annotations

import random
from typing import Literal

from chaosbus.injectors.distributions import Distribution, draw_delay
from chaosbus.injectors.http.action import Conduct, HttpInjector, Relay
from chaosbus.injectors.http.base import HttpFaultConfig


class LatencyFault(HttpFaultConfig):
    """Forward after a drawn wait: a slow service."""

    type: Literal["latency"] = "latency"
    distribution: Distribution


def act(config: LatencyFault, rng: random.Random) -> Conduct:
    return Conduct(draw_delay(config.distribution, rng), Relay())


FAULT = HttpInjector(config=LatencyFault, act=act)
