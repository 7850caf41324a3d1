"""What the proxy does with one request, in the proxy's own vocabulary: wait, then reply.

An HTTP fault does not name a field of its own here; it says what to do on the wire with
three kinds of reply, and `streams.http` carries that out:

* `Relay`: call the service `deliveries` times in a row and relay its first answer, whole,
  or only `body_share` of its body before closing the connection (a dying upstream);
* `Respond`: answer this status, headers and body without calling the service;
* `HangUp`: close the connection without an answer, before calling the service.

`Conduct` is what an HTTP fault's `act` returns; `HttpAction` adds which fault it was and,
for a pass, why. Each HTTP fault module ends in an `HttpInjector` entry (its config and
`act`), listed in `injectors.http.registry`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, NamedTuple, TypeVar

from chaosbus.injectors.base import type_name
from chaosbus.injectors.http.base import HttpFaultConfig


@dataclass(frozen=True, slots=True)
class Relay:
    """Call the service and relay its answer (the first, when it is called more than once)."""

    deliveries: int = 1  # times the service receives the request
    body_share: float | None = None  # send only this share of the body, then close


@dataclass(frozen=True, slots=True)
class Respond:
    """Answer without calling the service: it never sees the request."""

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: str = ""


@dataclass(frozen=True, slots=True)
class HangUp:
    """Close the connection without an answer; the service is not called."""


Reply = Relay | Respond | HangUp


class Conduct(NamedTuple):
    wait_ms: int  # before anything else
    reply: Reply


@dataclass(frozen=True, slots=True)
class HttpAction:
    """What the proxy does with one request. A pass relays it once, at once."""

    fault: str  # "pass" or one of HTTP_FAULT_TYPES
    fault_name: str | None = None
    reason: str | None = None  # why a pass although a fault matched: a cap, "disabled"
    wait_ms: int = 0
    reply: Reply = Relay()

    @property
    def forwards(self) -> bool:
        """Does the service receive the request at all?"""
        return isinstance(self.reply, Relay)


H = TypeVar("H", bound=HttpFaultConfig)


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpInjector(Generic[H]):
    """One HTTP fault described whole: its config and what it does to a request."""

    config: type[H]
    act: Callable[[H, random.Random], Conduct]

    @property
    def name(self) -> str:
        return type_name(self.config)
