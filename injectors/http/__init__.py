"""The fault model for HTTP: a request is an envelope, and a decision says what happens to it.

The same contract as the topic faults: pure, seeded per request from (seed, route, sequence),
targeted by `match`, capped by the blast radius, gated by count-exact triggers. What differs is
the outcome: instead of emissions, an `HttpAction` (answer with an error, wait, hang, reset the
connection, truncate the body, deliver the request to the service twice) that the proxy in
`streams.http` carries out.
"""

from chaosbus.injectors.http.plan import HttpAction, HttpPlan, HttpRequest
from chaosbus.injectors.http.spec import (
    HttpFault,
    HttpFaultFile,
    HttpMatch,
    parse_http_fault_document,
)

__all__ = [
    "HttpAction",
    "HttpFault",
    "HttpFaultFile",
    "HttpMatch",
    "HttpPlan",
    "HttpRequest",
    "parse_http_fault_document",
]
