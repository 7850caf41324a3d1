"""Duplicate: deliver the request to the service `1 + copies` times in a row; the client gets
the first answer (a webhook platform that sent twice)."""

from __future__ import annotations

import random
from typing import Literal

from pydantic import Field

from chaosbus.injectors.http.action import Conduct, HttpInjector, Relay
from chaosbus.injectors.http.base import HttpFaultConfig


class DuplicateFault(HttpFaultConfig):
    """Deliver the request to the service `copies` more times: a webhook sent twice."""

    type: Literal["duplicate"] = "duplicate"
    copies: int = Field(default=1, ge=1, le=10, strict=True)


def act(config: DuplicateFault, rng: random.Random) -> Conduct:
    return Conduct(0, Relay(deliveries=1 + config.copies))


FAULT = HttpInjector(config=DuplicateFault, act=act)
