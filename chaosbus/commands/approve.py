"""`chaosbus approve FILE --role AREA`: a sign-off bound to the file's content, with the dry
run the approver was shown."""

from __future__ import annotations

import asyncio
import re

import typer

from chaosbus.commands import values
from chaosbus.commands.options import (
    Actor,
    Bootstrap,
    ControlRedis,
    Count,
    Experiment,
    KafkaConfig,
    ReadTimeout,
    Window,
)
from chaosbus.commands.shell import fail, one_line_errors
from chaosbus.control import operations
from chaosbus.control.approvals import content_sha256
from chaosbus.control.audit import default_actor
from chaosbus.errors import ChaosbusError
from chaosbus.experiment.governance import AREA_PATTERN
from chaosbus.planning.dry_run import DEFAULT_MAX_MESSAGES, dry_run
from chaosbus.scenarios import experiment_content, load_experiment_or_scenario
from chaosbus.settings import resolve_kafka, resolve_redis


@one_line_errors
def approve(
    file: Experiment,
    role: str = typer.Option(..., "--role", help="The area signed for (business, security, …)."),
    redis: ControlRedis = None,
    actor: Actor = None,
    plan: bool = typer.Option(
        True, "--plan/--no-plan", help="Show the dry run first and store it with the sign-off."
    ),
    window: Window = "10m",
    count: Count = DEFAULT_MAX_MESSAGES,
    timeout: ReadTimeout = "30s",
    bootstrap: Bootstrap = None,
    kafka_config: KafkaConfig = None,
) -> None:
    """Sign off FILE for one area, bound to its sha256 and your Redis user (approver role).

    First the dry run (`chaosbus plan`) of FILE's topic routes is printed, and stored with
    the sign-off (`chaosbus approvals` shows it again); --no-plan signs without one, and so
    does a dry run that cannot be made (a missing topic, no broker), saying why."""
    content = experiment_content(file)
    spec = load_experiment_or_scenario(file)
    sha = content_sha256(content)
    if not re.fullmatch(AREA_PATTERN, role):
        raise fail(f"--role {role!r}: lower case letters, digits, - or _")
    summary = None
    if plan and spec.routes:
        window_s = None if window is None else values.seconds("--window", window)
        timeout_s = values.seconds("--timeout", timeout)
        try:
            predicted = asyncio.run(
                dry_run(
                    spec,
                    resolve_kafka(bootstrap, kafka_config),
                    window_s=window_s,
                    max_messages=count,
                    timeout_s=timeout_s,
                )
            )
        except ChaosbusError as exc:
            # The sign-off is the approver's to give; it says it was given without one.
            typer.echo(f"chaosbus: no dry run ({exc}); signing without one", err=True)
        else:
            for line in predicted.lines():
                typer.echo(line)
            summary = predicted.model_dump_json()
    done = asyncio.run(
        operations.sign_off(
            resolve_redis(redis), role, sha, spec.name, actor or default_actor(), plan=summary
        )
    )
    shown = " (with the dry run above)" if summary else ""
    typer.echo(f"{file}: {role} signed off by {done.user} for sha256 {sha}{shown}")
