"""`chaosbus http` against real HTTP servers on loopback: each fault as a client meets it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from chaosbus.injectors.http.plan import HttpPlan
from chaosbus.injectors.http.spec import HttpFaultFile
from chaosbus.injectors.spec import BlastRadius
from chaosbus.streams.http import HttpInterposer, HttpRoute, RequestLog

pytestmark = pytest.mark.integration


class Service:
    """A real upstream: counts what it receives, answers a JSON body."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str, bytes]] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((request.method, request.path_qs, await request.read()))
        return web.json_response({"ok": True, "padding": "x" * 200}, headers={"X-Svc": "1"})


@asynccontextmanager
async def service() -> AsyncIterator[Service]:
    svc = Service()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", svc.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    svc.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield svc
    finally:
        await runner.cleanup()


@asynccontextmanager
async def proxied(fault: dict[str, Any]) -> AsyncIterator[tuple[Service, HttpInterposer]]:
    faults = HttpFaultFile.model_validate({"faults": [fault]}).faults
    async with service() as svc:
        route = HttpRoute(name="api", listen_host="127.0.0.1", listen_port=0, upstream=svc.url)
        with RequestLog() as log:
            async with HttpInterposer(route, HttpPlan(faults, BlastRadius(), 1), log) as proxy:
                yield svc, proxy


async def call(proxy: HttpInterposer, timeout_s: float = 5.0) -> tuple[int, bytes]:
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        session.post(proxy.url + "/orders?x=1", json={"id": 7}) as response,
    ):
        return response.status, await response.read()


class TestFaultsOnTheWire:
    async def test_pass_forwards_once_and_relays_the_answer(self) -> None:
        """probability 0: the service gets the request once; the client its answer."""
        async with proxied({"type": "error", "probability": 0}) as (svc, proxy):
            status, body = await call(proxy)
        assert status == 200
        assert b'"ok": true' in body
        assert svc.received == [("POST", "/orders?x=1", b'{"id": 7}')]
        (entry,) = proxy.log.entries
        assert (entry.fault, entry.status, entry.delivered, entry.upstream_status) == (
            "pass",
            200,
            1,
            200,
        )

    @pytest.mark.parametrize("status", [500, 502, 503, 429, 520, 499])
    async def test_error_answers_without_calling_the_service(self, status: int) -> None:
        """error: the status (with Retry-After) comes back and the service never sees it."""
        fault = {"type": "error", "probability": 1, "status": status, "retry_after_s": 3}
        async with proxied(fault) as (svc, proxy):
            timeout = aiohttp.ClientTimeout(total=5)
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.get(proxy.url + "/price") as response,
            ):
                got = (response.status, response.headers.get("Retry-After"))
        assert got == (status, "3")
        assert svc.received == []
        assert proxy.log.entries[0].delivered == 0

    async def test_latency_waits_then_forwards(self) -> None:
        """latency: forwarded after the drawn wait, which the log shows it waited."""
        fault = {"type": "latency", "probability": 1, "distribution": {"kind": "fixed", "ms": 300}}
        async with proxied(fault) as (svc, proxy):
            status, _ = await call(proxy)
        assert status == 200
        assert len(svc.received) == 1
        assert proxy.log.entries[0].took_ms >= 300

    async def test_hang_makes_the_client_time_out(self) -> None:
        """hang: no answer until the client gives up; the service never sees it."""
        async with proxied({"type": "hang", "probability": 1, "hang_ms": 3_000}) as (svc, proxy):
            with pytest.raises(TimeoutError):
                await call(proxy, timeout_s=0.5)
        assert svc.received == []

    async def test_reset_drops_the_connection(self) -> None:
        """reset: the client's connection closes with no answer."""
        async with proxied({"type": "reset", "probability": 1}) as (svc, proxy):
            with pytest.raises(aiohttp.ClientConnectionError):
                await call(proxy)
        assert svc.received == []
        assert proxy.log.entries[0].status is None

    async def test_truncate_cuts_the_body_after_the_service_applied_it(self) -> None:
        """truncate: the service got it, the client gets a short body and a broken read."""
        async with proxied({"type": "truncate", "probability": 1, "keep_share": 0.3}) as (
            svc,
            proxy,
        ):
            with pytest.raises(aiohttp.ClientPayloadError):
                await call(proxy)
        assert len(svc.received) == 1
        assert proxy.log.entries[0].upstream_status == 200

    async def test_duplicate_delivers_twice(self) -> None:
        """duplicate: the service receives the same request 1 + copies times."""
        async with proxied({"type": "duplicate", "probability": 1, "copies": 2}) as (svc, proxy):
            status, _ = await call(proxy)
        assert status == 200
        assert [r[2] for r in svc.received] == [b'{"id": 7}'] * 3
        assert proxy.log.entries[0].delivered == 3

    async def test_first_n_trigger_is_exact(self) -> None:
        """trigger first: 2 fails exactly the first two calls, then passes."""
        async with proxied({"type": "error", "status": 503, "trigger": {"first": 2}}) as (
            svc,
            proxy,
        ):
            statuses = [(await call(proxy))[0] for _ in range(4)]
        assert statuses == [503, 503, 200, 200]
        assert len(svc.received) == 2
