"""Hang: accept the request, answer nothing for `hang_ms`, then close: the client times out."""

from __future__ import annotations

import random
from typing import Literal

from pydantic import Field

from chaosbus.injectors.http.action import Conduct, HangUp, HttpInjector
from chaosbus.injectors.http.base import HttpFaultConfig
from chaosbus.injectors.limits import MAX_DURATION_MS


class HangFault(HttpFaultConfig):
    """Accept the request and answer nothing for `hang_ms`, then close: the client times out."""

    type: Literal["hang"] = "hang"
    hang_ms: int = Field(default=30_000, ge=1, le=MAX_DURATION_MS, strict=True)


def act(config: HangFault, rng: random.Random) -> Conduct:
    return Conduct(config.hang_ms, HangUp())


FAULT = HttpInjector(config=HangFault, act=act)
