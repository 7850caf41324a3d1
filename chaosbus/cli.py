"""The `chaosbus` command line. Each command is a thin shell over a module of its own.

Exit codes (ARCHITECTURE §4): 0 hypothesis held / success, 1 hypothesis violated,
2 invalid input (file, flags, unreachable broker, missing prerequisite), 3 aborted.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import ParamSpec, TypeVar

import typer

from chaosbus.errors import EXIT_INVALID, ChaosbusError
from chaosbus.local.stack import LocalStack
from chaosbus.proxy_command import build_proxy, run_proxy
from chaosbus.settings import resolve_bootstrap

P = ParamSpec("P")
R = TypeVar("R")

app = typer.Typer(
    name="chaosbus",
    help="Event-stream chaos for async integrations.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
local_app = typer.Typer(
    help="A real Kafka (KRaft) and redis-server on loopback.", no_args_is_help=True
)
app.add_typer(local_app, name="local")


def fail(message: str, code: int = EXIT_INVALID) -> typer.Exit:
    typer.echo(f"chaosbus: {message}", err=True)
    return typer.Exit(code)


def one_line_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn every ChaosbusError into one line on stderr and its documented exit code."""

    @wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except ChaosbusError as exc:
            raise fail(str(exc), exc.exit_code) from exc

    return wrapper


@local_app.command("up")
@one_line_errors
def local_up() -> None:
    """Start Kafka and Redis (resolving the Kafka jars with Maven on first use)."""
    status = LocalStack.default().up()
    for line in status.lines():
        typer.echo(line)


@local_app.command("down")
@one_line_errors
def local_down() -> None:
    """Stop the local Kafka and Redis."""
    for line in LocalStack.default().down().lines():
        typer.echo(line)


@local_app.command("status")
@one_line_errors
def local_status(
    env: bool = typer.Option(False, "--env", help="Print shell exports of the addresses."),
) -> None:
    """Show whether the local stack runs, and its addresses."""
    status = LocalStack.default().status()
    if env:
        typer.echo(f"export CHAOSBUS_BOOTSTRAP={status.bootstrap}")
        typer.echo(f"export CHAOSBUS_REDIS={status.redis_url}")
        return
    for line in status.lines():
        typer.echo(line)
    if not (status.kafka_running and status.redis_running):
        raise typer.Exit(1)


@app.command("proxy")
@one_line_errors
def proxy(
    route: list[str] = typer.Option([], "--route", help="SOURCE:DESTINATION, repeatable."),
    bootstrap: str | None = typer.Option(None, "--bootstrap", help="Kafka HOST:PORT."),
    fault: Path | None = typer.Option(None, "--fault", help="Fault file (YAML) for every route."),
    seed: int | None = typer.Option(None, "--seed", help="Seed of every fault decision."),
    group: str = typer.Option("chaosbus.proxy", "--group", help="Consumer group of replicas."),
    run_id: str | None = typer.Option(None, "--run-id", help="Run id in ledger records."),
    create_topics: bool = typer.Option(
        False, "--create-topics", help="Create missing destinations."
    ),
    ledger: bool = typer.Option(True, "--ledger/--no-ledger", help="Write chaosbus.ledger."),
    start_from: str = typer.Option(
        "earliest", "--from", help="earliest or latest, for a new group."
    ),
    event_id_header: str | None = typer.Option(
        None, "--event-id-header", help="Header naming the event id."
    ),
) -> None:
    """Interpose on topics until SIGTERM/SIGINT, then drain, commit and exit 0."""
    built = build_proxy(
        routes=route,
        bootstrap=resolve_bootstrap(bootstrap),
        group_id=group,
        run_id=run_id,
        create_topics=create_topics,
        ledger=ledger,
        start_from=start_from,
        fault_file=fault,
        seed=seed,
        event_id_header=event_id_header,
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    typer.echo(
        f"chaosbus proxy: run {built.config.run_id}, routes "
        + ", ".join(r.name for r in built.routes),
        err=True,
    )
    report = asyncio.run(run_proxy(built))
    typer.echo(
        "chaosbus proxy: stopped; "
        + ", ".join(f"{k}={v}" for k, v in sorted(report.counts.items())),
        err=True,
    )


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
