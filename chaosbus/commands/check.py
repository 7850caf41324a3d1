"""`chaosbus check FILE --run-id ID`: a recorded run judged after the fact."""

from __future__ import annotations

import asyncio

import typer

from chaosbus.commands.options import (
    Bootstrap,
    Experiment,
    JudgedRunId,
    KafkaConfig,
    KeyPrefix,
    ProbeRedis,
    Report,
)
from chaosbus.commands.shell import fail, one_line_errors
from chaosbus.control.audit import default_actor
from chaosbus.report.markdown import to_markdown
from chaosbus.report.write import write_report
from chaosbus.runner.check_window import check_window
from chaosbus.scenarios import load_experiment_or_scenario
from chaosbus.settings import resolve_kafka, resolve_redis


@one_line_errors
def check(
    file: Experiment,
    run_id: JudgedRunId,
    report: Report = None,
    bootstrap: Bootstrap = None,
    kafka_config: KafkaConfig = None,
    redis: ProbeRedis = None,
    key_prefix: KeyPrefix = "",
) -> None:
    """Judge a recorded run after the fact, as `run` does: exit 0 held, 1 violated,
    2 invalid input or nothing judged, 4 inconclusive."""
    spec = load_experiment_or_scenario(file)
    if not spec.routes:
        raise fail(
            f"{file}: check judges topic routes and {spec.name!r} has none; judge its request "
            "log with `chaosbus retries PATH.requests.jsonl`"
        )
    outcome = asyncio.run(
        check_window(
            spec,
            kafka=resolve_kafka(bootstrap, kafka_config),
            redis_url=resolve_redis(redis),
            run_id=run_id,
            key_prefix=key_prefix,
            actor=default_actor(),
        )
    )
    typer.echo(to_markdown(outcome))
    if report is not None:
        for written in write_report(outcome, report):
            typer.echo(f"report: {written}", err=True)
    raise typer.Exit(outcome.exit_code)
