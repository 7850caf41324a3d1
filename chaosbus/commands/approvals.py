"""`chaosbus approvals FILE`: which required sign-offs the file's exact content has, and the
dry run each approver was shown."""

from __future__ import annotations

import asyncio

import typer
from pydantic import ValidationError

from chaosbus.commands.options import ControlRedis, Experiment
from chaosbus.commands.shell import one_line_errors
from chaosbus.control import operations
from chaosbus.control.approvals import Signoff, content_sha256
from chaosbus.planning.summary import PlanSummary
from chaosbus.scenarios import read_experiment
from chaosbus.settings import resolve_redis


@one_line_errors
def approvals(file: Experiment, redis: ControlRedis = None) -> None:
    """Show which required sign-offs FILE has for its exact content, and the dry run each
    approver signed with: exit 0 all, 1 not."""
    content, spec = read_experiment(file)
    required = spec.approvals.required if spec.approvals else ()
    distinct = spec.approvals.distinct_users if spec.approvals else True
    state = asyncio.run(
        operations.show_approvals(
            resolve_redis(redis), content_sha256(content), required, distinct=distinct
        )
    )
    for line in state.lines():
        typer.echo(line)
    for signoff in state.signoffs:
        for line in shown_to(signoff):
            typer.echo(line)
    if not required:
        typer.echo(f"{file}: no approvals required")
    raise typer.Exit(1 if state.missing else 0)


def shown_to(signoff: Signoff) -> list[str]:
    """What the approver was shown when signing, indented under who signed."""
    if signoff.plan is None:
        return [f"{signoff.area} by {signoff.user}: signed without a dry run"]
    try:
        summary = PlanSummary.model_validate_json(signoff.plan)
    except ValidationError:
        return [f"{signoff.area} by {signoff.user}: the stored dry run does not parse"]
    return [f"{signoff.area} by {signoff.user} was shown:", *(f"  {x}" for x in summary.lines())]
