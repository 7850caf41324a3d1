"""What `chaosbus http` does: the HTTP reverse proxy alone, long-running, until a signal.

    chaosbus http --listen 127.0.0.1:8081 --upstream http://127.0.0.1:9000 \\
        --fault http-faults.yaml --seed 7 --log requests.jsonl

`chaosbus retries requests.jsonl` judges the log it writes (`chaosbus.commands.retries`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from chaosbus.clients.redaction import redact_url
from chaosbus.control.approvals import refuse_unsigned_faults
from chaosbus.control.guard import InjectionGuard
from chaosbus.control.plane import control_plane
from chaosbus.documents import load_http_fault_file
from chaosbus.errors import InvalidInput
from chaosbus.injectors.errors import InjectorError
from chaosbus.injectors.http.plan import HttpPlan
from chaosbus.injectors.spec import BlastRadius
from chaosbus.observability import Providers
from chaosbus.signals import stop_on_signals
from chaosbus.streams.http import HttpInterposer, HttpRoute, RequestLog


@dataclass(frozen=True)
class HttpProxyOptions:
    listen: str
    upstream: str
    fault_file: Path | None
    seed: int | None
    log_path: Path | None
    name: str = "http"
    id_header: str = "idempotency-key"


def parse_listen(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise InvalidInput(f"--listen {text!r}: expected HOST:PORT")
    return host, int(port)


def build_plan(fault_file: Path | None, seed: int | None) -> HttpPlan:
    if fault_file is None:
        return HttpPlan((), BlastRadius(), seed or 0)
    try:
        spec = load_http_fault_file(fault_file)
    except InjectorError as exc:
        raise InvalidInput(str(exc)) from exc
    chosen = spec.seed if seed is None else seed
    if spec.faults and chosen is None:
        raise InvalidInput(f"{fault_file}: seed: required (in the file or with --seed)")
    return HttpPlan(spec.faults, spec.blast_radius, chosen or 0)


async def run_http_proxy(
    options: HttpProxyOptions,
    *,
    control_url: str | None,
    announce: bool = True,
    providers: Providers | None = None,
) -> HttpPlan:
    if not options.upstream.startswith(("http://", "https://")):
        raise InvalidInput(f"--upstream {options.upstream!r}: expected an http(s) URL")
    host, port = parse_listen(options.listen)
    plan = build_plan(options.fault_file, options.seed)
    if control_url is not None and plan_has_faults(plan):
        async with control_plane(control_url) as plane:
            await refuse_unsigned_faults(plane, "http")
    route = HttpRoute(
        name=options.name,
        listen_host=host,
        listen_port=port,
        upstream=options.upstream,
        id_header=options.id_header.lower(),
    )
    stopping = asyncio.Event()
    with stop_on_signals(stopping), RequestLog(options.log_path) as request_log:
        try:
            meter = providers.meter if providers else None
            proxy = await HttpInterposer(
                route, plan, request_log, meter_provider=meter
            ).__aenter__()
        except OSError as exc:
            raise InvalidInput(f"cannot listen on {options.listen}: {exc.strerror}") from exc
        try:
            if announce:
                print(f"chaosbus http: {proxy.url} -> {redact_url(options.upstream)}", flush=True)
            if control_url is None or not plan_has_faults(plan):
                await stopping.wait()
            else:
                async with InjectionGuard(control_url, lambda: [proxy], meter_provider=meter):
                    await stopping.wait()
        finally:
            await proxy.__aexit__(None, None, None)
    return plan


def plan_has_faults(plan: HttpPlan) -> bool:
    return plan.fault_count > 0
