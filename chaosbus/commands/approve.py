"""`chaosbus approve FILE --role AREA`: a sign-off bound to the file's content."""

from __future__ import annotations

import asyncio
import re

import typer

from chaosbus.commands.options import Actor, ControlRedis, Experiment
from chaosbus.commands.shell import fail, one_line_errors
from chaosbus.control import operations
from chaosbus.control.approvals import content_sha256
from chaosbus.control.audit import default_actor
from chaosbus.experiment.governance import AREA_PATTERN
from chaosbus.scenarios import experiment_content, load_experiment_or_scenario
from chaosbus.settings import resolve_redis


@one_line_errors
def approve(
    file: Experiment,
    role: str = typer.Option(..., "--role", help="The area signed for (business, security, …)."),
    redis: ControlRedis = None,
    actor: Actor = None,
) -> None:
    """Sign off FILE for one area, bound to its sha256 and your Redis user (approver role)."""
    content = experiment_content(file)
    spec = load_experiment_or_scenario(file)
    sha = content_sha256(content)
    if not re.fullmatch(AREA_PATTERN, role):
        raise fail(f"--role {role!r}: lower case letters, digits, - or _")
    done = asyncio.run(
        operations.sign_off(resolve_redis(redis), role, sha, spec.name, actor or default_actor())
    )
    typer.echo(f"{file}: {role} signed off by {done.user} for sha256 {sha}")
