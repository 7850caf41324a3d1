"""`chaosbus http`: a reverse proxy in front of a service, applying the HTTP fault model.

Every request is read whole (bounded by `max_body_bytes`), decided by the plan, carried out,
and logged. An action (`injectors.http.action`) is a wait, then one of three replies, which
is all this proxy knows of faults (each HTTP fault's module says which it makes):

* `Relay`: the request is delivered to the service `deliveries` times in a row and the first
  answer relayed as it is, or with its full Content-Length but only `body_share` of its body,
  then the connection is closed, as a dying upstream does;
* `Respond`: the status, headers and body are answered without calling the service;
* `HangUp`: the connection is closed without an answer, before the service is called.

Hop-by-hop headers are not forwarded (RFC 9110 §7.6.1). A service that cannot be reached is
answered 502 and logged with no upstream status, so the retry verdict sees the failure.

With a meter: `chaosbus.http.requests`, `chaosbus.http.decisions` (by `chaosbus.fault` and
`chaosbus.fault_name`), `chaosbus.http.delivered` (requests passed on to the service) and
`chaosbus.http.duration` (ms from arrival to the answer), all with `chaosbus.route`. Every
request is also a `decide` record on `chaosbus.actions` (`streams.action_log`): INFO when a
fault acted, DEBUG for a pass.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
from collections.abc import Collection
from dataclasses import dataclass
from types import TracebackType
from typing import Self

import aiohttp
from aiohttp import web
from opentelemetry import metrics

from chaosbus.clients.redaction import redact_text, redact_url
from chaosbus.contracts.clock import Clock, wall_clock_ms
from chaosbus.injectors.http.action import HangUp, HttpAction, Respond
from chaosbus.injectors.http.log_record import LoggedRequest
from chaosbus.injectors.http.plan import HttpPlan, HttpRequest
from chaosbus.streams.http.request_log import RequestLog
from chaosbus.streams.telemetry import trace_id_of

log = logging.getLogger(__name__)
actions = logging.getLogger("chaosbus.actions")

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)


@dataclass(frozen=True, kw_only=True)
class HttpRoute:
    name: str
    listen_host: str
    listen_port: int  # 0: any free port (see `HttpInterposer.port`)
    upstream: str  # base URL of the service, e.g. http://127.0.0.1:9000
    id_header: str = "idempotency-key"
    max_body_bytes: int = 10 * 1024 * 1024
    upstream_timeout_s: float = 30.0


def request_id(id_header_value: str | None, method: str, path: str, body: bytes) -> str:
    """The logical request: its idempotency key, else a hash of what makes it the same."""
    if id_header_value:
        return id_header_value
    digest = hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body)
    return "sha256:" + digest.hexdigest()[:16]


class HttpInterposer:
    """An async context manager: listening from enter to exit."""

    def __init__(
        self,
        route: HttpRoute,
        plan: HttpPlan,
        log_to: RequestLog,
        clock: Clock = wall_clock_ms,
        meter_provider: metrics.MeterProvider | None = None,
    ) -> None:
        self.route = route
        self.plan = plan
        self.log = log_to
        self._clock = clock
        self._sequence = itertools.count()
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self.port = route.listen_port
        self._measuring = meter_provider is not None
        meter = (meter_provider or metrics.NoOpMeterProvider()).get_meter("chaosbus.http")
        self._on_route = {"chaosbus.route": route.name}
        self._requests = meter.create_counter("chaosbus.http.requests")
        self._decisions = meter.create_counter("chaosbus.http.decisions")
        self._delivered = meter.create_counter("chaosbus.http.delivered")
        self._duration = meter.create_histogram("chaosbus.http.duration", unit="ms")

    async def __aenter__(self) -> Self:
        timeout = aiohttp.ClientTimeout(total=self.route.upstream_timeout_s)
        self._session = aiohttp.ClientSession(timeout=timeout, auto_decompress=False)
        app = web.Application(client_max_size=self.route.max_body_bytes)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.route.listen_host, self.route.listen_port)
        await site.start()
        sockets = self._runner.addresses
        if sockets:
            self.port = int(sockets[0][1])
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def set_injecting(self, injecting: bool, cause: str = "kill switch") -> None:
        """The kill switch: off, every request passes untouched (nothing is held here)."""
        self.plan.enabled = injecting

    @property
    def scope(self) -> tuple[str, str]:
        """What `chaosbus pause --http-route` names."""
        return "http", self.route.name

    def pause_faults(self, names: Collection[str], *, every: bool = False) -> None:
        self.plan.pause(self.plan.fault_names if every else names)

    @property
    def url(self) -> str:
        return f"http://{self.route.listen_host}:{self.port}"

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        started = self._clock()
        body = await request.read()
        headers = {name.lower(): value for name, value in request.headers.items()}
        path = request.path
        decided = HttpRequest(
            route=self.route.name,
            sequence=next(self._sequence),
            method=request.method,
            path=path,
            headers=headers,
            body=body,
            request_id=request_id(headers.get(self.route.id_header), request.method, path, body),
            arrived_at_ms=started,
        )
        action = self.plan.decide(decided)
        outcome = _Outcome()
        try:
            return await self._carry_out(request, body, action, outcome)
        finally:
            entry = LoggedRequest(
                route=self.route.name,
                sequence=decided.sequence,
                request_id=decided.request_id,
                method=request.method,
                path=path,
                arrived_at_ms=started,
                fault=action.fault,
                fault_name=action.fault_name,
                status=outcome.status,
                delivered=outcome.delivered,
                upstream_status=outcome.upstream_status,
                took_ms=self._clock() - started,
            )
            entry = self.log.write(entry)  # pseudonymised under privacy: hashed
            self._observe(entry, len(body), headers.get("traceparent"))

    def _observe(self, entry: LoggedRequest, size: int, traceparent: str | None) -> None:
        """The request's metrics and its `decide` action record."""
        if self._measuring:
            on_route = self._on_route
            self._requests.add(1, on_route)
            self._decisions.add(
                1,
                {
                    **on_route,
                    "chaosbus.fault": entry.fault,
                    "chaosbus.fault_name": entry.fault_name or "",
                },
            )
            self._delivered.add(entry.delivered, on_route)
            self._duration.record(entry.took_ms, on_route)
        level = logging.DEBUG if entry.fault == "pass" else logging.INFO
        if not actions.isEnabledFor(level):
            return
        trace = trace_id_of([("traceparent", traceparent.encode("latin-1"))] if traceparent else [])
        actions.log(
            level,
            "%s: %s %s %s -> %s in %d ms",
            entry.route,
            entry.fault,
            entry.method,
            entry.path,
            entry.status,
            entry.took_ms,
            extra={
                "action": "decide",
                "route": entry.route,
                "fault": f"http.{entry.fault}",
                "fault_name": entry.fault_name,
                "event_id": entry.request_id,
                "sequence": entry.sequence,
                "method": entry.method,
                "path": entry.path,
                "status": entry.status,
                "upstream_status": entry.upstream_status,
                "delivered": entry.delivered,
                "payload_bytes": size,
                "timing_ms": entry.took_ms,
                "trace_id": trace,
            },
        )

    async def _carry_out(
        self, request: web.Request, body: bytes, action: HttpAction, outcome: _Outcome
    ) -> web.StreamResponse:
        if action.wait_ms:
            await asyncio.sleep(action.wait_ms / 1000)
        reply = action.reply
        if isinstance(reply, HangUp):
            return _close(request)
        if isinstance(reply, Respond):
            outcome.status = reply.status
            return web.Response(status=reply.status, text=reply.body, headers=dict(reply.headers))
        answer = await self._forward(request, body, outcome)
        for _ in range(reply.deliveries - 1):
            await self._forward(request, body, outcome)
        if answer is None:
            outcome.status = 502
            return web.Response(status=502, text="chaosbus: the service did not answer")
        status, answer_headers, answer_body = answer
        outcome.status = status
        if reply.body_share is None:
            return web.Response(status=status, headers=answer_headers, body=answer_body)
        return await _truncated(request, status, answer_headers, answer_body, reply.body_share)

    async def _forward(
        self, request: web.Request, body: bytes, outcome: _Outcome
    ) -> tuple[int, dict[str, str], bytes] | None:
        assert self._session is not None
        url = self.route.upstream.rstrip("/") + request.path_qs
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        try:
            async with self._session.request(
                request.method, url, headers=headers, data=body, allow_redirects=False
            ) as response:
                answer = await response.read()
                outcome.delivered += 1
                if outcome.upstream_status is None:
                    outcome.upstream_status = response.status
                kept = {k: v for k, v in response.headers.items() if k.lower() not in HOP_BY_HOP}
                return response.status, kept, answer
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning(
                "route %s: the service at %s did not answer: %s",
                self.route.name,
                redact_url(url),
                redact_text(str(exc)),
            )
            return None


@dataclass
class _Outcome:
    status: int | None = None
    delivered: int = 0
    upstream_status: int | None = None


def _close(request: web.Request) -> web.StreamResponse:
    """Drop the connection without an answer: the client sees a reset or an EOF."""
    if request.transport is not None:
        request.transport.abort()
    return web.Response(status=499)  # never sent: the transport is gone


async def _truncated(
    request: web.Request, status: int, headers: dict[str, str], body: bytes, share: float
) -> web.StreamResponse:
    response = web.StreamResponse(status=status, headers=headers)
    response.content_length = len(body)
    await response.prepare(request)
    await response.write(body[: int(len(body) * share)])
    if request.transport is not None:
        request.transport.abort()
    return response
