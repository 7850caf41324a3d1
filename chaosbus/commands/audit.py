"""`chaosbus audit [--verify]`: the audit log, or its hash chain checked."""

from __future__ import annotations

import asyncio

import typer

from chaosbus.commands.options import ControlRedis
from chaosbus.commands.shell import one_line_errors
from chaosbus.control import operations
from chaosbus.settings import resolve_redis


@one_line_errors
def audit(
    redis: ControlRedis = None,
    limit: int = typer.Option(50, "--limit", help="How many of the latest entries."),
    verify: bool = typer.Option(
        False, "--verify", help="Check the hash chain: exit 0 intact, 1 tampered."
    ),
) -> None:
    """Print the audit log (start, stop, abort, kill, unkill, verdict, …), oldest first.

    With --verify, walk the whole hash chain and name every edited, deleted or trimmed
    entry by its position; exit 1 when any, 0 when intact."""
    url = resolve_redis(redis)
    if verify:
        result = asyncio.run(operations.verify_audit(url))
        for problem in result.problems:
            typer.echo(f"audit log tampered: {problem}")
        state = "intact" if result.intact else "NOT intact"
        typer.echo(
            f"audit log {state}: {result.held} entries held of {result.added} appended; "
            f"head {result.head}"
        )
        raise typer.Exit(0 if result.intact else 1)
    for entry in asyncio.run(operations.audit_log(url, limit)):
        typer.echo(entry.line())
