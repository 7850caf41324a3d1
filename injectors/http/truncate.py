"""Truncate: call the service, then send its answer with its full Content-Length but only
the first `keep_share` of the body, and close, as a dying upstream does."""

from __future__ import annotations

import random
from typing import Literal

from pydantic import Field

from chaosbus.injectors.http.action import Conduct, HttpInjector, Relay
from chaosbus.injectors.http.base import HttpFaultConfig


class TruncateFault(HttpFaultConfig):
    """Call the service, then send only the first `keep_share` of its body and close."""

    type: Literal["truncate"] = "truncate"
    keep_share: float = Field(default=0.5, ge=0.0, lt=1.0, allow_inf_nan=False)


def act(config: TruncateFault, rng: random.Random) -> Conduct:
    return Conduct(0, Relay(body_share=config.keep_share))


FAULT = HttpInjector(config=TruncateFault, act=act)
