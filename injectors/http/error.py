"""Error: answer with an error status (and `Retry-After`) without calling the service."""

from __future__ import annotations

import random
from typing import Annotated, Literal

from pydantic import Field

from chaosbus.injectors.http.action import Conduct, HttpInjector, Respond
from chaosbus.injectors.http.base import HttpFaultConfig
from chaosbus.injectors.limits import MAX_TEXT

# 1xx and the 2xx/3xx a fault has no business inventing are refused; 499 (client closed)
# and 520-599 (nonstandard gateway codes) are what real platforms meet and are allowed.
Status = Annotated[int, Field(ge=400, le=599, strict=True)]


class ErrorFault(HttpFaultConfig):
    """Answer with an error status without calling the service (it never sees the request)."""

    type: Literal["error"] = "error"
    status: Status = 503
    retry_after_s: int | None = Field(default=None, ge=0, le=86_400, strict=True)
    body: str = Field(default="", max_length=MAX_TEXT)


def act(config: ErrorFault, rng: random.Random) -> Conduct:
    retry = () if config.retry_after_s is None else (("Retry-After", str(config.retry_after_s)),)
    return Conduct(0, Respond(config.status, retry, config.body))


FAULT = HttpInjector(config=ErrorFault, act=act)
