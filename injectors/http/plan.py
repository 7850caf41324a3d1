"""The HTTP fault plan: what happens to each request the proxy receives.

A request is decided like a topic message: one uniform draw per fault, always all of them,
from the decision stream of (seed, route, sequence), where the sequence is the request's arrival
number on the route; the first fault that matches and fires takes it; the blast radius and
count-exact triggers apply as for topics. Keys for the blast radius are the logical request
id (an idempotency key, or a hash of the body), so `max_key_share` caps logical requests, not
attempts.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

from chaosbus.injectors.blast import BlastGuard
from chaosbus.injectors.delay import draw_delay
from chaosbus.injectors.http.spec import (
    DuplicateFault,
    ErrorFault,
    HangFault,
    HttpFault,
    HttpMatch,
    LatencyFault,
    ResetFault,
    TruncateFault,
)
from chaosbus.injectors.match import Payload, condition_holds, lookup
from chaosbus.injectors.rng import DecisionSource
from chaosbus.injectors.spec import BlastRadius
from chaosbus.injectors.triggers import TriggerBook

HTTP_FAULT_TYPES = ("latency", "error", "hang", "reset", "truncate", "duplicate")


@dataclass(frozen=True, slots=True)
class HttpRequest:
    route: str
    sequence: int  # arrival number on the route, from 0
    method: str
    path: str
    headers: Mapping[str, str]  # names lower-cased
    body: bytes
    request_id: str  # the logical request: idempotency key, else a body hash
    arrived_at_ms: int  # logical time of the decision, for the rate cap


@dataclass(frozen=True, slots=True)
class HttpAction:
    """What the proxy does with one request. A pass forwards it once, at once."""

    fault: str  # "pass" or one of HTTP_FAULT_TYPES
    fault_name: str | None = None
    reason: str | None = None  # why a pass although a fault matched: a cap, "disabled"
    delay_ms: int = 0  # wait before forwarding (latency)
    status: int | None = None  # answer this instead of forwarding (error)
    retry_after_s: int | None = None
    body: str = ""
    hang_ms: int = 0  # answer nothing for this long, then close (hang)
    reset: bool = False  # close the connection at once (reset)
    keep_share: float | None = None  # forward, then send this share of the body (truncate)
    copies: int = 0  # extra deliveries to the service (duplicate)

    @property
    def forwards(self) -> bool:
        """Does the service receive the request at all?"""
        return self.status is None and not self.hang_ms and not self.reset


PASS = HttpAction("pass")


class HttpPlan:
    """Mutable and single-threaded: the proxy calls it from its event loop only."""

    def __init__(self, faults: Sequence[HttpFault], blast_radius: BlastRadius, seed: int) -> None:
        self._streams = DecisionSource(seed)
        self.enabled = True  # False: the kill switch; every request passes
        # Multiplies every probability, as for topic plans: an experiment's warm-up is 0,
        # its ramp steps up to 1. At 0 nothing fires, not even a trigger, and none is counted.
        self.intensity = 1.0
        self._faults = tuple(faults)
        self._names = tuple(f.name or f"faults[{i}]" for i, f in enumerate(self._faults))
        self._guard = BlastGuard(blast_radius)
        self._triggers = TriggerBook()
        self.counts: dict[str, int] = dict.fromkeys(("pass", *HTTP_FAULT_TYPES), 0)

    @property
    def seed(self) -> int:
        return self._streams.seed

    @property
    def fault_count(self) -> int:
        return len(self._faults)

    def decide(self, request: HttpRequest) -> HttpAction:
        if not self.enabled:
            return self._pass("disabled")
        if self.intensity <= 0.0:
            return self._pass(None)
        stream = self._streams.stream(request.route, 0, request.sequence)
        draws = stream.draws(len(self._faults))
        key = request.request_id.encode()
        self._guard.see(key)
        part = (request.route, 0)
        payload = Payload(request.body)
        chosen: int | None = None
        for index, fault in enumerate(self._faults):
            if chosen is not None and fault.trigger is None:
                continue
            if not matches(fault.match, request, payload):
                continue
            admitted = self._triggers.admit(index, part, fault.trigger)
            if chosen is None and admitted and draws[index] < fault.probability * self.intensity:
                chosen = index
        if chosen is None:
            return self._pass(None)
        refusal = self._guard.refusal(key, request.arrived_at_ms)
        if refusal is not None:
            return self._pass(refusal)
        self._guard.record(key)
        self._triggers.record(chosen, part, self._faults[chosen].trigger)
        fault = self._faults[chosen]
        self.counts[fault.type] += 1
        return action_for(fault, self._names[chosen], stream)

    def _pass(self, reason: str | None) -> HttpAction:
        self.counts["pass"] += 1
        return PASS if reason is None else HttpAction("pass", reason=reason)


def action_for(fault: HttpFault, name: str, rng: random.Random) -> HttpAction:
    match fault:
        case LatencyFault():
            return HttpAction("latency", name, delay_ms=draw_delay(fault.distribution, rng))
        case ErrorFault():
            return HttpAction(
                "error", name, status=fault.status, retry_after_s=fault.retry_after_s,
                body=fault.body,
            )
        case HangFault():
            return HttpAction("hang", name, hang_ms=fault.hang_ms)
        case ResetFault():
            return HttpAction("reset", name, reset=True)
        case TruncateFault():
            return HttpAction("truncate", name, keep_share=fault.keep_share)
        case DuplicateFault():
            return HttpAction("duplicate", name, copies=fault.copies)
    raise AssertionError(f"unhandled HTTP fault {fault!r}")  # pragma: no cover


def matches(spec: HttpMatch | None, request: HttpRequest, payload: Payload) -> bool:
    """Every given criterion holds; a JSON condition on a body that is not an object fails."""
    if spec is None:
        return True
    if spec.method is not None and spec.method.upper() != request.method.upper():
        return False
    if spec.path is not None and not fnmatchcase(request.path, spec.path):
        return False
    for name, value in (spec.headers or {}).items():
        if request.headers.get(name.lower()) != value:
            return False
    if spec.json_conditions:
        document = payload.as_object()
        if document is None:
            return False
        return all(
            condition_holds(lookup(document, path), condition)
            for path, condition in spec.json_conditions.items()
        )
    return True
