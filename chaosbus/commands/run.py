"""`chaosbus run FILE`: one experiment, live, to a verdict (chaosbus.runner)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Literal

import typer

from chaosbus.commands.options import (
    Actor,
    BaselineChoice,
    BaselineMatch,
    Bootstrap,
    CreateTopics,
    Experiment,
    FailOnRegression,
    History,
    HttpUpstream,
    Junit,
    KafkaConfig,
    KeyPrefix,
    Labels,
    LogFormatOption,
    Metrics,
    NoHistory,
    Report,
    RunRedis,
    ShareRoute,
    Tolerance,
    Traffic,
)
from chaosbus.commands.recording import program_of, say
from chaosbus.commands.shell import one_line_errors
from chaosbus.control.approvals import content_sha256
from chaosbus.control.audit import default_actor
from chaosbus.experiment.sides import reaim_http, request_log_beside
from chaosbus.history.program import baseline_for, conclude
from chaosbus.history.recorder import FactsKept
from chaosbus.logs import log_format
from chaosbus.observability import providers_from_environment
from chaosbus.runner.command import dry_run_lines, run_with_console
from chaosbus.runner.run import RunOptions
from chaosbus.scenarios import read_experiment
from chaosbus.settings import resolve_http_upstream, resolve_kafka, resolve_redis

Interposer = Literal["in-process", "supervised"]


def traffic_log_beside(report: Path) -> Path:
    """`out/run.json` → `out/run.traffic.log`: the traffic command's output, kept with the
    report."""
    stem = report.with_suffix("") if report.suffix == ".json" else report
    return Path(f"{stem}.traffic.log")


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
    create_topics: CreateTopics = False,
    traffic: Traffic = None,
    http_upstream: HttpUpstream = None,
    http_listen: str | None = typer.Option(
        None, "--http-listen", help="HOST:PORT of the experiment's one HTTP route."
    ),
    interposer: Interposer = typer.Option(
        "in-process",
        "--interposer",
        help="in-process: the interposer runs inside this process; supervised: in a child "
        "process, started again if it is killed (its route metrics then go where the "
        "environment says, not to --metrics).",
    ),
    metrics: Metrics = None,
    log_format_name: LogFormatOption = "text",
    label: Labels = None,
    history: History = None,
    no_history: NoHistory = False,
    junit: Junit = None,
    baseline: BaselineChoice = None,
    baseline_match: BaselineMatch = None,
    fail_on_regression: FailOnRegression = False,
    tolerance: Tolerance = "10%",
) -> None:
    """Run an experiment: exit 0 held, 1 violated, 2 invalid input, 3 aborted, 4 inconclusive.

    Refused (exit 2) while a sign-off the file's `approvals:` requires is missing for its
    exact content, or another live interposer reads a route's source (see --share-route).
    With http_routes and --report PATH, the request log is written to PATH.requests.jsonl.
    With --traffic CMD, CMD starts when injection begins (CHAOSBUS_RUN_ID and
    CHAOSBUS_SOURCE_TOPIC in its environment); a CMD that fails is reported, not ignored.
    The run is recorded in the history (see --history); --baseline compares it with a stored
    run, and --fail-on-regression exits 5 when it held but is worse than that baseline.
    """
    fmt = log_format(log_format_name)
    program = program_of(
        history=history,
        no_history=no_history,
        labels=label,
        origin="run",
        baseline=baseline,
        match=baseline_match,
        fail_on_regression=fail_on_regression,
        tolerance=tolerance,
        report=report,
        junit=junit,
    )
    content, parsed = read_experiment(file)  # once: the hash is of what runs
    upstream = resolve_http_upstream(http_upstream)
    spec = reaim_http(parsed, http_listen, upstream)
    options = RunOptions(
        kafka=resolve_kafka(bootstrap, kafka_config),
        redis_url=resolve_redis(redis),
        actor=actor or default_actor(),
        key_prefix=key_prefix,
        content_sha256=content_sha256(content),
        label=file,
        share_route=share_route,
        create_topics=create_topics,
        request_log=request_log_beside(report) if report and spec.http_routes else None,
        interposer=interposer,
        traffic=traffic,
        traffic_output=traffic_log_beside(report) if report else None,
    )
    if dry_run:
        for line in asyncio.run(dry_run_lines(spec, options)):
            typer.echo(line)
        return
    text = content.decode("utf-8", errors="replace")
    chosen = baseline_for(program, spec.name, text)  # before the run: a bad one costs nothing
    options.on_facts = kept = FactsKept()
    options.providers = providers_from_environment("chaosbus-runner", metrics=metrics)
    try:
        outcome = asyncio.run(run_with_console(spec, options, fmt))
    finally:
        options.providers.shutdown()
    done = conclude(
        program, outcome, kept.facts, text=text, baseline=chosen, tier=spec.tier, say=say
    )
    raise typer.Exit(done.exit_code)
