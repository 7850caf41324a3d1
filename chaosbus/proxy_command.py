"""`chaosbus proxy`: the interposer alone, long-running, until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from chaosbus.control.guard import InjectionGuard
from chaosbus.errors import InvalidInput, RouteStopped, Unreachable
from chaosbus.observability import providers_from_environment
from chaosbus.signals import stop_on_signals
from injectors.errors import InjectorError
from injectors.plan import FaultPlan
from injectors.spec import load_fault_file
from streams.config import InterposerConfig
from streams.decider import Decider
from streams.errors import BrokerUnreachable, RouteError, TopicMissing
from streams.proxy import Proxy, ProxyReport
from streams.routes import Route
from streams.telemetry import Telemetry
from streams.undeliverable import RouteFailed

log = logging.getLogger("chaosbus.proxy")


def parse_routes(texts: Sequence[str], on_undeliverable: str = "fail") -> list[Route]:
    if not texts:
        raise InvalidInput("no route: pass --route SOURCE:DESTINATION at least once")
    dead_letter = parse_on_undeliverable(on_undeliverable)
    try:
        routes = [Route.parse(text) for text in texts]
    except RouteError as exc:
        raise InvalidInput(str(exc)) from exc
    return [replace(route, dead_letter=dead_letter) for route in routes]


def parse_on_undeliverable(text: str) -> str | None:
    """`fail` (None) or `dead_letter:TOPIC` (the topic)."""
    if text == "fail":
        return None
    kind, sep, topic = text.partition(":")
    if kind == "dead_letter" and sep and topic:
        return topic
    raise InvalidInput(f"--on-undeliverable {text!r}: expected fail or dead_letter:TOPIC")


def load_plans(
    routes: Sequence[Route], fault_file: Path | None, seed: int | None
) -> dict[Route, Decider]:
    if fault_file is None:
        return {}
    try:
        spec = load_fault_file(fault_file)
        plans: dict[Route, Decider] = {}
        for route in routes:
            plan = FaultPlan.from_file(spec, seed=seed, route_id=route.route_id)
            plan.check_routes([(route.source, route.destination)])
            plans[route] = plan
    except InjectorError as exc:
        raise InvalidInput(str(exc)) from exc
    return plans


async def run_proxy(proxy: Proxy, *, control_url: str | None) -> ProxyReport:
    """Run until a signal. With faults, the kill switch at `control_url` gates injection:
    engaged or unreachable, the proxy stops injecting and keeps forwarding."""
    stopping = asyncio.Event()
    with stop_on_signals(stopping):
        try:
            if control_url is None:
                return await proxy.run(stopping)
            async with InjectionGuard(control_url, lambda: proxy.interposers):
                return await proxy.run(stopping)
        except BrokerUnreachable as exc:
            raise Unreachable(str(exc)) from exc
        except TopicMissing as exc:
            raise InvalidInput(str(exc)) from exc
        except RouteFailed as exc:
            raise RouteStopped(str(exc)) from exc


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]


def build_proxy(
    *,
    routes: Sequence[str],
    bootstrap: str,
    group_id: str,
    run_id: str | None,
    create_topics: bool,
    ledger: bool,
    start_from: str,
    fault_file: Path | None,
    seed: int | None,
    event_id_header: str | None,
    status_every_s: float = 5.0,
    delivery: str = "at-least-once",
    on_undeliverable: str = "fail",
) -> Proxy:
    parsed = parse_routes(routes, on_undeliverable)
    if delivery not in ("at-least-once", "exactly-once"):
        raise InvalidInput(f"--delivery {delivery!r}: expected at-least-once or exactly-once")
    if start_from not in ("earliest", "latest"):
        raise InvalidInput(f"--from {start_from!r}: expected earliest or latest")
    config = InterposerConfig(
        bootstrap=bootstrap,
        run_id=run_id or new_run_id(),
        group_id=group_id,
        ledger_enabled=ledger,
        event_id_header=event_id_header,
        start_from="earliest" if start_from == "earliest" else "latest",
        status_interval_ms=int(status_every_s * 1000),
    )
    providers = providers_from_environment()
    return Proxy(
        parsed,
        config,
        deciders=load_plans(parsed, fault_file, seed),
        create_topics=create_topics,
        telemetry_for=lambda route: Telemetry(providers.tracer, providers.meter, route=route.name),
        delivery="exactly-once" if delivery == "exactly-once" else "at-least-once",
    )
