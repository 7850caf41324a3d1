"""The `chaosbus` command line. Each command is a thin shell over a module of its own.

Exit codes (ARCHITECTURE §4): 0 hypothesis held / success, 1 hypothesis violated,
2 invalid input (file, flags, unreachable broker, missing prerequisite), 3 aborted.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

import typer

from chaosbus.errors import EXIT_INVALID, ChaosbusError
from chaosbus.local.stack import LocalStack

P = ParamSpec("P")
R = TypeVar("R")

app = typer.Typer(
    name="chaosbus",
    help="Event-stream chaos for async integrations.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
local_app = typer.Typer(help="A real Kafka (KRaft) and redis-server on loopback.", no_args_is_help=True)
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


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
