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
    HttpUpstream,
    KafkaConfig,
    ReadTimeout,
    Window,
)
from chaosbus.commands.shell import fail, one_line_errors
from chaosbus.control import operations
from chaosbus.control.approvals import content_sha256
from chaosbus.control.audit import default_actor
from chaosbus.errors import ChaosbusError
from chaosbus.experiment.governance import AREA_PATTERN, DAY_S
from chaosbus.experiment.sides import reaim_http
from chaosbus.planning.dry_run import DEFAULT_MAX_MESSAGES, dry_run
from chaosbus.runner.preflight import run_targets
from chaosbus.scenarios import read_experiment
from chaosbus.settings import resolve_http_upstream, resolve_kafka, resolve_redis


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
    http_upstream: HttpUpstream = None,
) -> None:
    """Sign off FILE for one area, bound to its sha256 and your Redis user (approver role).

    First the dry run (`chaosbus plan`) of FILE's topic routes is printed, and stored with
    the sign-off (`chaosbus approvals` shows it again); --no-plan signs without one, and so
    does a dry run that cannot be made (a missing topic, no broker), saying why.

    The sign-off covers FILE's exact bytes and the run's targets as these flags and the
    environment resolve them (bootstrap, namespace, routes, HTTP upstreams): a run that
    differs is refused. It expires after the file's `approvals.valid_for_s` (a week)."""
    content, parsed = read_experiment(file)
    spec = reaim_http(parsed, None, resolve_http_upstream(http_upstream))
    sha = content_sha256(content)
    kafka = resolve_kafka(bootstrap, kafka_config)
    targets = run_targets(spec, kafka.bootstrap, "chaosbus")
    valid_for_s = spec.approvals.valid_for_s if spec.approvals else 7 * DAY_S
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
                    kafka,
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
            resolve_redis(redis),
            role,
            sha,
            spec.name,
            actor or default_actor(),
            plan=summary,
            targets=targets.text(),
            valid_for_ms=valid_for_s * 1000,
        )
    )
    shown = " (with the dry run above)" if summary else ""
    typer.echo(f"{file}: {role} signed off by {done.user} for sha256 {sha}{shown}")
    typer.echo(f"targets {targets.text()}; expires in {valid_for_s} s")
