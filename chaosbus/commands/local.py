"""`chaosbus local up|down|status`: the local stack (chaosbus.local.stack)."""

from __future__ import annotations

import typer

from chaosbus.commands.shell import one_line_errors
from chaosbus.local.stack import LocalStack

group = typer.Typer(help="A real Kafka (KRaft) and redis-server on loopback.", no_args_is_help=True)


@group.command("up")
@one_line_errors
def local_up(
    secure: bool = typer.Option(
        False, "--secure", help="Add a SASL_SSL listener (SCRAM user, generated certificates)."
    ),
    brokers: int | None = typer.Option(
        None,
        "--brokers",
        help="Kafka nodes (default 1, or as many as the running stack has): 3 starts a KRaft "
        "cluster (replication 3, min.insync.replicas 2) on consecutive ports from "
        "CHAOSBUS_KAFKA_PORT.",
    ),
    postgres: bool = typer.Option(
        True, "--postgres/--no-postgres", help="Start PostgreSQL too (when installed)."
    ),
) -> None:
    """Start Kafka, Redis and PostgreSQL (resolving the Kafka jars with Maven on first use)."""
    status = LocalStack.default(brokers, postgres=postgres).up(secure=secure)
    for line in status.lines():
        typer.echo(line)


@group.command("down")
@one_line_errors
def local_down() -> None:
    """Stop the local Kafka, Redis and PostgreSQL."""
    for line in LocalStack.default().down().lines():
        typer.echo(line)


@group.command("status")
@one_line_errors
def local_status(
    env: bool = typer.Option(False, "--env", help="Print shell exports of the addresses."),
) -> None:
    """Show whether the local stack runs, and its addresses."""
    status = LocalStack.default().status()
    if env:
        for line in status.env_lines():
            typer.echo(line)
        return
    for line in status.lines():
        typer.echo(line)
    if not (status.kafka_running and status.redis_running):
        raise typer.Exit(1)
