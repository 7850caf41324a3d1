"""The `http_routes` section: reverse proxies in front of the services the automation calls.

Each route is what `chaosbus http` runs, declared in the experiment: where it listens, the
service behind it, the header naming the logical request, its HTTP faults (the schema of
`injectors.http.spec`) and the retry policy its requests are judged by. The experiment's
`seed` and `blast_radius` apply to every route, as to its topic routes.

Example::

    http_routes:
      - name: pricing
        listen: 127.0.0.1:9301
        upstream: http://127.0.0.1:9300
        faults:
          - {name: unavailable, type: error, probability: 0.7, status: 503, retry_after_s: 1}
          - {name: dropped, type: reset, probability: 0.5}
        retry_policy: {max_attempts: 8, min_backoff_ratio: 1.5, max_storm_rps: 50}
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from chaosbus.experiment.bounds import Bound
from chaosbus.experiment.monitor import MonitorSpec
from chaosbus.injectors.http.spec import HttpFault
from chaosbus.injectors.limits import (
    MAX_COPIES,
    MAX_COUNT,
    MAX_FAULTS_PER_S,
    MAX_LIST,
    MAX_PATTERN,
    Name,
    SpecModel,
)
from chaosbus.injectors.spec import unique_names
from chaosbus.injectors.validation import LocatedError
from chaosbus.monitors.retries import RETRY_METRICS, RetryPolicy

_DEFAULT = RetryPolicy()


class RetryPolicySpec(SpecModel):
    """What counts as a bounded, backing-off retry (`monitors.retries.RetryPolicy`)."""

    max_attempts: int = Field(default=_DEFAULT.max_attempts, ge=1, le=MAX_COUNT, strict=True)
    # A gap growing a hundredfold per attempt is past any real backoff: MAX_COPIES bounds it.
    # Below 1: a fixed wait measured with jitter (`retry_policy: {platform: n8n}` is 0.9).
    min_backoff_ratio: float = Field(default=_DEFAULT.min_backoff_ratio, ge=0.5, le=MAX_COPIES)
    max_storm_rps: float = Field(default=_DEFAULT.max_storm_rps, ge=0.0, le=MAX_FAULTS_PER_S)

    def policy(self) -> RetryPolicy:
        return RetryPolicy(self.max_attempts, self.min_backoff_ratio, self.max_storm_rps)


class HttpRouteSpec(SpecModel):
    name: Name = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    listen: str = Field(max_length=MAX_PATTERN)  # HOST:PORT; port 0 picks a free one
    upstream: str = Field(max_length=MAX_PATTERN)  # base URL of the service
    id_header: str = Field(
        default="idempotency-key", min_length=1, max_length=MAX_PATTERN, pattern=r"^[!-~]+$"
    )
    faults: tuple[HttpFault, ...] = Field(default=(), max_length=MAX_LIST)
    retry_policy: RetryPolicySpec = RetryPolicySpec()

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        split_listen(value)
        return value

    @field_validator("upstream")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/?#]+", value):
            raise PydanticCustomError("upstream", "expected an http(s) URL")
        return value

    @field_validator("faults")
    @classmethod
    def _unique_fault_names(cls, faults: tuple[HttpFault, ...]) -> tuple[HttpFault, ...]:
        return unique_names(faults)

    @property
    def host(self) -> str:
        return split_listen(self.listen)[0]

    @property
    def port(self) -> int:
        return split_listen(self.listen)[1]


def split_listen(text: str) -> tuple[str, int]:
    """`HOST:PORT` → (host, port); `[::1]:80` for IPv6. Raises a pydantic error otherwise."""
    host, sep, port = text.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise PydanticCustomError("listen", "expected HOST:PORT")
    return host, int(port)


class Sides(Protocol):
    """What `both_sides_problem` reads of an experiment (`ExperimentSpec` has all of it)."""

    @property
    def routes(self) -> Sequence[object]: ...
    @property
    def faults(self) -> Sequence[object]: ...
    @property
    def http_routes(self) -> Sequence[HttpRouteSpec]: ...
    @property
    def monitor(self) -> MonitorSpec: ...
    @property
    def steady_state(self) -> Sequence[Bound]: ...
    @property
    def guardrails(self) -> Sequence[Bound]: ...


def both_sides_problem(spec: Sides) -> None:
    """Raise the first problem in how topic routes, HTTP routes, faults and monitor fit.

    Topic routes need topic faults or HTTP faults to be worth running, and a monitor with
    checks; an HTTP-only experiment has no topic faults and no monitor checks.
    """
    if not spec.routes and not spec.http_routes:
        raise LocatedError("routes", "declare routes (topics), http_routes (HTTP), or both")
    http_faults = sum(len(r.faults) for r in spec.http_routes)
    if not spec.faults and not http_faults:
        raise LocatedError("faults", "at least one fault (in faults or in http_routes[].faults)")
    if spec.faults and not spec.routes:
        raise LocatedError(
            "faults", "topic faults need a topic route (HTTP faults go in http_routes[].faults)"
        )
    if spec.routes and not spec.monitor.checks:
        raise LocatedError("monitor", "required with topic routes, with at least one check")
    if spec.monitor.checks and not spec.routes:
        raise LocatedError("monitor", "judges topic routes, and routes is empty")
    names: list[str] = []
    listening: dict[tuple[str, int], int] = {}
    for index, route in enumerate(spec.http_routes):
        if route.name in names:
            raise LocatedError(f"http_routes[{index}].name", f"{route.name!r} used twice")
        names.append(route.name)
        address = (route.host, route.port)
        if route.port and address in listening:
            raise LocatedError(
                f"http_routes[{index}].listen",
                f"{route.listen} is also http_routes[{listening[address]}].listen",
            )
        listening[address] = index
    if not spec.http_routes:
        sections = (("steady_state", spec.steady_state), ("guardrails", spec.guardrails))
        for section, bounds in sections:
            for index, bound in enumerate(bounds):
                if bound.metric in RETRY_METRICS:
                    raise LocatedError(
                        f"{section}[{index}].metric",
                        f"{bound.metric} is measured on http_routes, and there is none",
                    )
