"""`chaosbus check FILE --run-id ID`: a recorded run judged after the fact."""

from __future__ import annotations

import asyncio

import typer

from chaosbus.commands.options import (
    Bootstrap,
    Experiment,
    History,
    JudgedRunId,
    Junit,
    KafkaConfig,
    KeyPrefix,
    Labels,
    NoHistory,
    ProbeRedis,
    Report,
)
from chaosbus.commands.recording import program_of, say
from chaosbus.commands.shell import fail, one_line_errors
from chaosbus.control.audit import default_actor
from chaosbus.history.program import conclude
from chaosbus.history.recorder import FactsKept
from chaosbus.report.markdown import to_markdown
from chaosbus.runner.check_window import check_window
from chaosbus.scenarios import read_experiment
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
    label: Labels = None,
    history: History = None,
    no_history: NoHistory = False,
    junit: Junit = None,
) -> None:
    """Judge a recorded run after the fact, as `run` does: exit 0 held, 1 violated,
    2 invalid input or nothing judged, 4 inconclusive. The check is recorded in the history
    under an id of its own (see --history)."""
    program = program_of(
        history=history,
        no_history=no_history,
        labels=label,
        origin="check",
        report=report,
        junit=junit,
    )
    content, spec = read_experiment(file)
    text = content.decode("utf-8", errors="replace")
    if not spec.routes:
        raise fail(
            f"{file}: check judges topic routes and {spec.name!r} has none; judge its request "
            "log with `chaosbus retries PATH.requests.jsonl`"
        )
    kept = FactsKept()
    outcome = asyncio.run(
        check_window(
            spec,
            kafka=resolve_kafka(bootstrap, kafka_config),
            redis_url=resolve_redis(redis),
            run_id=run_id,
            key_prefix=key_prefix,
            actor=default_actor(),
            on_facts=kept,
        )
    )
    typer.echo(to_markdown(outcome))
    done = conclude(program, outcome, kept.facts, text=text, baseline=None, tier=spec.tier, say=say)
    raise typer.Exit(done.exit_code)
