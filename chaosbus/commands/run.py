"""`chaosbus run FILE`: one experiment, live, to a verdict (chaosbus.runner)."""

from __future__ import annotations

import asyncio
from typing import Literal

import typer

from chaosbus.commands.options import (
    Actor,
    Bootstrap,
    Experiment,
    KafkaConfig,
    KeyPrefix,
    Report,
    RunRedis,
    ShareRoute,
)
from chaosbus.commands.shell import one_line_errors
from chaosbus.control.approvals import content_sha256
from chaosbus.control.audit import default_actor
from chaosbus.experiment.sides import reaim_http, request_log_beside
from chaosbus.report.write import write_report
from chaosbus.runner.command import dry_run_lines, run_with_console
from chaosbus.runner.run import RunOptions
from chaosbus.scenarios import experiment_content, load_experiment_or_scenario
from chaosbus.settings import resolve_http_upstream, resolve_kafka, resolve_redis

Interposer = Literal["supervised", "in-process"]


@one_line_errors
def run(
    file: Experiment,
    dry_run: bool = typer.Option(False, "--dry-run", help="Preflight and targeting only."),
    report: Report = None,
    bootstrap: Bootstrap = None,
    kafka_config: KafkaConfig = None,
    redis: RunRedis = None,
    actor: Actor = None,
    key_prefix: KeyPrefix = "",
    share_route: ShareRoute = False,
    http_upstream: str | None = typer.Option(
        None,
        "--http-upstream",
        help="Service behind the experiment's one HTTP route (default: the file's upstream); "
        "or CHAOSBUS_HTTP_UPSTREAM.",
    ),
    http_listen: str | None = typer.Option(
        None, "--http-listen", help="HOST:PORT of the experiment's one HTTP route."
    ),
    interposer: Interposer = typer.Option(
        "supervised",
        "--interposer",
        help="supervised: the interposer runs in a child process, started again if it is "
        "killed; in-process: inside this one.",
    ),
) -> None:
    """Run an experiment: exit 0 held, 1 violated, 2 invalid input, 3 aborted, 4 inconclusive.

    Refused (exit 2) while a sign-off the file's `approvals:` requires is missing for its
    exact content, or another live interposer reads a route's source (see --share-route).
    With http_routes and --report PATH, the request log is written to PATH.requests.jsonl.
    """
    content = experiment_content(file)
    upstream = resolve_http_upstream(http_upstream)
    spec = reaim_http(load_experiment_or_scenario(file), http_listen, upstream)
    options = RunOptions(
        kafka=resolve_kafka(bootstrap, kafka_config),
        redis_url=resolve_redis(redis),
        actor=actor or default_actor(),
        key_prefix=key_prefix,
        content_sha256=content_sha256(content),
        label=file,
        share_route=share_route,
        request_log=request_log_beside(report) if report and spec.http_routes else None,
        interposer=interposer,
    )
    if dry_run:
        for line in asyncio.run(dry_run_lines(spec, options)):
            typer.echo(line)
        return
    outcome = asyncio.run(run_with_console(spec, options))
    if report is not None:
        for written in write_report(outcome, report):
            typer.echo(f"report: {written}", err=True)
    raise typer.Exit(outcome.exit_code)
