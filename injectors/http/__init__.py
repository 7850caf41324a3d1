"""The fault model for HTTP: a request is an envelope, and a decision says what happens to it.

The same contract as the topic faults: pure, seeded per request from (seed, route, sequence),
targeted by `match`, capped by the blast radius, gated by count-exact triggers, chosen by the
same loop (`injectors.selection`). What differs is the outcome: instead of emissions, an
`HttpAction` (wait, then relay, respond or hang up) that the proxy in `streams.http` carries
out. Each HTTP fault is one module (its config and `act`) listed in `injectors.http.registry`;
every HTTP fault's config class is exported here.
"""

from chaosbus.injectors.http.action import Conduct, HangUp, HttpAction, Relay, Reply, Respond
from chaosbus.injectors.http.duplicate import DuplicateFault
from chaosbus.injectors.http.error import ErrorFault
from chaosbus.injectors.http.hang import HangFault
from chaosbus.injectors.http.latency import LatencyFault
from chaosbus.injectors.http.plan import HttpPlan, HttpRequest
from chaosbus.injectors.http.registry import HTTP_FAULT_TYPES, HTTP_INJECTORS
from chaosbus.injectors.http.reset import ResetFault
from chaosbus.injectors.http.spec import (
    HttpFault,
    HttpFaultFile,
    HttpMatch,
    parse_http_fault_document,
)
from chaosbus.injectors.http.truncate import TruncateFault

__all__ = [
    "HTTP_FAULT_TYPES",
    "HTTP_INJECTORS",
    "Conduct",
    "DuplicateFault",
    "ErrorFault",
    "HangFault",
    "HangUp",
    "HttpAction",
    "HttpFault",
    "HttpFaultFile",
    "HttpMatch",
    "HttpPlan",
    "HttpRequest",
    "LatencyFault",
    "Relay",
    "Reply",
    "ResetFault",
    "Respond",
    "TruncateFault",
    "parse_http_fault_document",
]
