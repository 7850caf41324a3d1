"""What `chaosbus proxy` does: the interposer alone, long-running, until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from chaosbus.clients.connection import KafkaSettings
from chaosbus.clients.errors import BrokerUnreachable
from chaosbus.contracts.clock import Clock, wall_clock_ms
from chaosbus.contracts.errors import RouteError
from chaosbus.contracts.ledger_record import LEDGER_TOPIC
from chaosbus.contracts.routes import Route, RouteProblem, route_problem
from chaosbus.control.approvals import refuse_unsigned_faults
from chaosbus.control.audit import Action, AuditEntry, new_entry
from chaosbus.control.errors import ControlPlaneUnreachable, NotPermitted
from chaosbus.control.guard import InjectionGuard
from chaosbus.control.plane import control_plane
from chaosbus.documents import load_fault_file
from chaosbus.errors import InvalidInput, RouteStopped, Unreachable
from chaosbus.injectors.errors import InjectorError
from chaosbus.injectors.limits import MAX_HELD_DEFAULT
from chaosbus.injectors.plan import FaultPlan
from chaosbus.injectors.spec import FaultFile
from chaosbus.observability import Providers, providers_from_environment
from chaosbus.runner.shared_routes import refuse_shared_routes
from chaosbus.signals import stop_on_signals
from chaosbus.streams.config import (
    COMPRESSIONS,
    DEFAULT_COMMIT_INTERVAL_MS,
    Compression,
    InterposerConfig,
)
from chaosbus.streams.decider import Decider
from chaosbus.streams.errors import TopicMissing
from chaosbus.streams.proxy import Proxy, ProxyReport
from chaosbus.streams.telemetry import Telemetry
from chaosbus.streams.topics import TopicPolicy
from chaosbus.streams.undeliverable import RouteFailed

log = logging.getLogger("chaosbus.proxy")


def parse_routes(
    texts: Sequence[str], on_undeliverable: str = "fail", *, ledger_topic: str = LEDGER_TOPIC
) -> list[Route]:
    """The `--route` flags, refused when they touch chaosbus's own topics or form a cycle."""
    if not texts:
        raise InvalidInput("no route: pass --route SOURCE:DESTINATION at least once")
    dead_letter = parse_on_undeliverable(on_undeliverable)
    try:
        routes = [Route.parse(text) for text in texts]
    except RouteError as exc:
        raise InvalidInput(str(exc)) from exc
    found = route_problem(
        [(r.source, r.destination) for r in routes],
        also=(ledger_topic,),
        dead_letters=[dead_letter] * len(routes),
    )
    if found is not None:
        raise InvalidInput(_route_flag_problem(found, routes))
    return [replace(route, dead_letter=dead_letter) for route in routes]


def _route_flag_problem(problem: RouteProblem, routes: Sequence[Route]) -> str:
    """`contracts.routes.route_problem`'s finding, worded for the `--route` flags."""
    if problem.kind == "cycle":
        return f"--route: routes form a cycle: {problem.detail}"
    route = routes[problem.index or 0]
    if problem.side == "dead_letter":
        return (
            f"--on-undeliverable dead_letter:{problem.topic} (route "
            f"{route.source}:{route.destination}): {problem.detail}"
        )
    if problem.kind == "shared_source":
        return f"--route: source topic {route.source!r} feeds more than one route"
    where = f"--route {route.source}:{route.destination}"
    if problem.kind == "same_topic":  # `Route.parse` refuses it first, in its own words
        return f"{where}: source and destination are the same topic"
    return f"{where}: {problem.detail}"


def load_fault_file_or_fail(path: Path) -> FaultFile:
    """A fault file, or `InvalidInput` with one line per problem (exit 2)."""
    try:
        return load_fault_file(path)
    except InjectorError as exc:
        raise InvalidInput(str(exc)) from exc


def parse_on_undeliverable(text: str) -> str | None:
    """`fail` (None) or `dead_letter:TOPIC` (the topic)."""
    if text == "fail":
        return None
    kind, sep, topic = text.partition(":")
    if kind == "dead_letter" and sep and topic:
        return topic
    raise InvalidInput(f"--on-undeliverable {text!r}: expected fail or dead_letter:TOPIC")


def load_plans(
    routes: Sequence[Route], fault_file: Path | FaultFile | None, seed: int | None
) -> dict[Route, Decider]:
    if fault_file is None:
        return {}
    try:
        spec = fault_file if isinstance(fault_file, FaultFile) else load_fault_file(fault_file)
        plans: dict[Route, Decider] = {}
        for route in routes:
            plan = FaultPlan.from_file(spec, seed=seed, route_id=route.route_id)
            plan.check_routes([(route.source, route.destination)])
            if route.dead_letter is not None:  # a topic the route writes, as its destination
                plan.check_routes([(route.source, route.dead_letter)])
            plans[route] = plan
    except InjectorError as exc:
        raise InvalidInput(str(exc)) from exc
    return plans


async def run_proxy(
    proxy: Proxy,
    *,
    control_url: str | None,
    share_route: bool = False,
    fault_label: str | None = None,
    actor: str | None = None,
    clock: Clock = wall_clock_ms,
    providers: Providers | None = None,
) -> ProxyReport:
    """Run until a signal. With faults, the kill switch at `control_url` gates injection:
    engaged or unreachable, the proxy stops injecting and keeps forwarding. With faults,
    a control plane that does not answer at start, or an audit log that refuses the start
    entry, refuses the run (exit 2); the stop entry is written when it ends."""
    stopping = asyncio.Event()
    with stop_on_signals(stopping):
        try:
            if control_url is None:
                await _refuse_shared(proxy, share_route)
                return await proxy.run(stopping)
            async with control_plane(control_url) as plane:
                await refuse_unsigned_faults(plane, "proxy")
                await _refuse_shared(proxy, share_route)
                routes = ", ".join(r.name for r in proxy.routes)
                run_id, what = proxy.config.run_id, fault_label or "faults"

                def entry(action: Action, detail: str) -> AuditEntry:
                    return new_entry(
                        action,
                        actor or plane.user,
                        clock(),
                        run_id=run_id,
                        experiment=what,
                        detail=detail,
                    )

                try:
                    await plane.audit(entry("start", f"proxy {routes}"))
                except (ControlPlaneUnreachable, NotPermitted) as exc:
                    raise type(exc)(
                        f"proxy refused: audit entry 'start' not written: {exc}"
                    ) from exc
                report: ProxyReport | None = None
                try:
                    async with InjectionGuard(
                        control_url,
                        lambda: proxy.interposers,
                        deciders=lambda: proxy.deciders,
                        meter_provider=providers.meter if providers else None,
                    ):
                        report = await proxy.run(stopping)
                finally:
                    counts = (
                        ""
                        if report is None
                        else ", ".join(f"{k}={v}" for k, v in sorted(report.counts.items()))
                    )
                    try:
                        await plane.audit(entry("stop", f"proxy {routes} {counts}".strip()))
                    except (ControlPlaneUnreachable, NotPermitted) as exc:
                        log.warning("audit entry stop not written: %s", exc)
                return report
        except BrokerUnreachable as exc:
            raise Unreachable(str(exc)) from exc
        except TopicMissing as exc:
            raise InvalidInput(str(exc)) from exc
        except RouteFailed as exc:
            raise RouteStopped(str(exc)) from exc


async def _refuse_shared(proxy: Proxy, share_route: bool) -> None:
    if not share_route:
        await refuse_shared_routes(
            proxy.config.kafka,
            [r.source for r in proxy.routes],
            own_group=proxy.config.group_id,
            own_group_is_replicas=True,
        )


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]


def build_proxy(
    *,
    routes: Sequence[str],
    kafka: KafkaSettings,
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
    topics: TopicPolicy | None = None,
    compression: str = "none",
    on_undeliverable: str = "fail",
    commit_interval_ms: int = DEFAULT_COMMIT_INTERVAL_MS,
    providers: Providers | None = None,
) -> Proxy:
    parsed = parse_routes(routes, on_undeliverable)
    faults = None if fault_file is None else load_fault_file_or_fail(fault_file)
    compressions: dict[str, Compression] = {name: name for name in COMPRESSIONS}
    if compression != "none" and compression not in compressions:
        raise InvalidInput(
            f"--compression {compression!r}: expected none, " + ", ".join(COMPRESSIONS)
        )
    if delivery not in ("at-least-once", "exactly-once"):
        raise InvalidInput(f"--delivery {delivery!r}: expected at-least-once or exactly-once")
    if start_from not in ("earliest", "latest"):
        raise InvalidInput(f"--from {start_from!r}: expected earliest or latest")
    if commit_interval_ms < 0:
        raise InvalidInput(f"--commit-interval-ms {commit_interval_ms}: expected 0 or more")
    config = InterposerConfig(
        kafka=kafka,
        run_id=run_id or new_run_id(),
        group_id=group_id,
        ledger_enabled=ledger,
        event_id_header=event_id_header,
        start_from="earliest" if start_from == "earliest" else "latest",
        status_interval_ms=int(status_every_s * 1000),
        # The fault file's holding limit, which its reorder windows were checked against.
        max_held_messages=(faults.blast_radius.max_held_messages if faults else MAX_HELD_DEFAULT),
        topics=topics or TopicPolicy(),
        compression=compressions.get(compression),
        commit_interval_ms=commit_interval_ms,
    )
    providers = providers or providers_from_environment()
    return Proxy(
        parsed,
        config,
        deciders=load_plans(parsed, faults, seed),
        create_topics=create_topics,
        telemetry_for=lambda route: Telemetry(
            providers.tracer,
            providers.meter,
            route=route.name,
            sample_ratio=providers.trace_sample_ratio,
        ),
        delivery="exactly-once" if delivery == "exactly-once" else "at-least-once",
    )
