"""Reset: close the connection at once, without an answer, before calling the service."""

from __future__ import annotations

import random
from typing import Literal

from chaosbus.injectors.http.action import Conduct, HangUp, HttpInjector
from chaosbus.injectors.http.base import HttpFaultConfig


class ResetFault(HttpFaultConfig):
    """Close the connection without an answer, before calling the service."""

    type: Literal["reset"] = "reset"


def act(config: ResetFault, rng: random.Random) -> Conduct:
    return Conduct(0, HangUp())


FAULT = HttpInjector(config=ResetFault, act=act)
