"""`chaosbus approvals FILE`: which required sign-offs the file's exact content has."""

from __future__ import annotations

import asyncio

import typer

from chaosbus.commands.options import ControlRedis, Experiment
from chaosbus.commands.shell import one_line_errors
from chaosbus.control import operations
from chaosbus.control.approvals import content_sha256
from chaosbus.scenarios import experiment_content, load_experiment_or_scenario
from chaosbus.settings import resolve_redis


@one_line_errors
def approvals(file: Experiment, redis: ControlRedis = None) -> None:
    """Show which required sign-offs FILE has for its exact content: exit 0 all, 1 not."""
    content = experiment_content(file)
    spec = load_experiment_or_scenario(file)
    required = spec.approvals.required if spec.approvals else ()
    state = asyncio.run(
        operations.show_approvals(resolve_redis(redis), content_sha256(content), required)
    )
    for line in state.lines():
        typer.echo(line)
    if not required:
        typer.echo(f"{file}: no approvals required")
    raise typer.Exit(1 if state.missing else 0)
