"""`chaosbus pause FILE --route R | --http-route H | --fault F`, and `resume`: the scoped
switches (chaosbus.control.scopes), beside the global kill switch."""

from __future__ import annotations

import asyncio

import typer

from chaosbus.commands.options import (
    Actor,
    ControlRedis,
    Reason,
    ScopeFault,
    ScopeHttpRoute,
    ScopeRoute,
)
from chaosbus.commands.shell import fail, one_line_errors
from chaosbus.control import operations
from chaosbus.control.audit import default_actor
from chaosbus.control.scopes import Scope
from chaosbus.documents import load_fault_file, load_http_fault_file
from chaosbus.errors import InvalidInput
from chaosbus.experiment.declared import Declared
from chaosbus.injectors.errors import InjectorError
from chaosbus.scenarios import load_experiment_or_scenario
from chaosbus.settings import resolve_redis

File = typer.Argument(help="The experiment (or scenario, or a proxy's fault file) declaring it.")


def declared_in(file: str) -> Declared:
    """What FILE declares: an experiment or scenario, else a topic or HTTP fault file."""
    try:
        return Declared.of_experiment(load_experiment_or_scenario(file), file)
    except InvalidInput as first:
        for loader in (load_fault_file, load_http_fault_file):
            try:
                return Declared.of_fault_file(loader(file), file)
            except (InjectorError, OSError):
                continue
        raise first


def chosen_scope(file: str, route: str | None, http_route: str | None, fault: str | None) -> Scope:
    given = [v for v in (route, http_route, fault) if v is not None]
    if len(given) != 1:
        raise fail("name exactly one of --route, --http-route, --fault")
    declared = declared_in(file)
    if route is not None:
        return Scope("route", declared.route(route))
    if http_route is not None:
        return Scope("http", declared.http_route(http_route))
    assert fault is not None
    return Scope("fault", declared.fault(fault))


@one_line_errors
def pause(
    file: str = File,
    route: ScopeRoute = None,
    http_route: ScopeHttpRoute = None,
    fault: ScopeFault = None,
    reason: Reason = None,
    redis: ControlRedis = None,
    actor: Actor = None,
) -> None:
    """Pause injection on one route, HTTP route or fault in every replica within 1 s.

    Audited; what the scope holds is released as the kill switch releases it; the rest goes
    on injecting. Operator role. `chaosbus resume` undoes it."""
    scope = chosen_scope(file, route, http_route, fault)
    url = resolve_redis(redis)
    changed = asyncio.run(operations.pause(url, scope, actor or default_actor(), reason))
    typer.echo(f"{scope.describe()} paused" if changed else f"{scope.describe()} was paused")


@one_line_errors
def resume(
    file: str = File,
    route: ScopeRoute = None,
    http_route: ScopeHttpRoute = None,
    fault: ScopeFault = None,
    redis: ControlRedis = None,
    actor: Actor = None,
) -> None:
    """Resume injection on a paused route, HTTP route or fault (audited; operator role)."""
    scope = chosen_scope(file, route, http_route, fault)
    url = resolve_redis(redis)
    changed = asyncio.run(operations.resume(url, scope, actor or default_actor()))
    typer.echo(f"{scope.describe()} resumed" if changed else f"{scope.describe()} was not paused")
