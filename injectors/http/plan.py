"""The HTTP fault plan: what happens to each request the proxy receives.

A request is decided like a topic message, by the same loop (`injectors.selection`): one
uniform draw per fault, always all of them, from the decision stream of (seed, route,
sequence), where the sequence is the request's arrival number on the route; the first fault
that matches and fires takes it; the blast radius and count-exact triggers apply as for
topics. What the chosen fault does is its module's `act` (`injectors.http.registry`). Keys
for the blast radius are the logical request id (an idempotency key, or a hash of the
body), so `max_key_share` caps logical requests, not attempts.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

from chaosbus.injectors.http.action import HttpAction
from chaosbus.injectors.http.base import HttpMatch
from chaosbus.injectors.http.registry import HTTP_FAULT_TYPES, HTTP_INJECTORS
from chaosbus.injectors.http.spec import HttpFault
from chaosbus.injectors.match import Payload, Verdict, condition_holds, lookup
from chaosbus.injectors.rng import DecisionSource
from chaosbus.injectors.selection import Selector
from chaosbus.injectors.spec import BlastRadius

__all__ = ["HTTP_FAULT_TYPES", "HttpAction", "HttpPlan", "HttpRequest", "matches"]


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
        self._selector = Selector(self._faults, blast_radius)
        self.counts: dict[str, int] = dict.fromkeys(("pass", *HTTP_FAULT_TYPES), 0)

    @property
    def seed(self) -> int:
        return self._streams.seed

    @property
    def fault_count(self) -> int:
        return len(self._faults)

    @property
    def fault_names(self) -> tuple[str, ...]:
        return self._names

    def pause(self, names: Collection[str]) -> bool:
        """As `injectors.plan.FaultPlan.pause` (nothing is held on the HTTP side)."""
        paused = frozenset(i for i, name in enumerate(self._names) if name in names)
        newly = bool(paused - self._selector.paused)
        self._selector.paused = paused
        return newly

    def decide(self, request: HttpRequest) -> HttpAction:
        if not self.enabled:
            return self._pass("disabled")
        if self.intensity <= 0.0:
            return self._pass(None)
        stream = self._streams.stream(request.route, 0, request.sequence)
        payload = Payload(request.body)
        choice = self._selector.choose(
            stream,
            (request.route, 0),
            request.request_id.encode(),
            request.arrived_at_ms,
            intensity=self.intensity,
            judge=lambda fault: (
                Verdict.MATCH if matches(fault.match, request, payload) else Verdict.NO_MATCH
            ),
        )
        if choice.chosen is None:
            return self._pass(choice.reason)
        fault = self._faults[choice.chosen]
        self.counts[fault.type] += 1
        wait_ms, reply = HTTP_INJECTORS[fault.type].act(fault, stream)
        return HttpAction(fault.type, self._names[choice.chosen], None, wait_ms, reply)

    def _pass(self, reason: str | None) -> HttpAction:
        self.counts["pass"] += 1
        return PASS if reason is None else HttpAction("pass", reason=reason)


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
