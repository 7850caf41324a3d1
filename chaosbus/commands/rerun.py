"""`chaosbus rerun ID`: a stored experiment run again and compared with the original."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import typer

from chaosbus.commands.options import (
    Actor,
    Bootstrap,
    FailOnRegression,
    History,
    Junit,
    KafkaConfig,
    KeyPrefix,
    Labels,
    NoHistory,
    Report,
    RunRedis,
    ShareRoute,
    Tolerance,
)
from chaosbus.commands.recording import program_of, say
from chaosbus.commands.shell import one_line_errors
from chaosbus.control.approvals import content_sha256
from chaosbus.control.audit import default_actor
from chaosbus.experiment import parse_experiment_text
from chaosbus.history.connect import open_history
from chaosbus.history.gate import Baseline
from chaosbus.history.program import conclude
from chaosbus.history.recorder import FactsKept
from chaosbus.history.rerun import parse_renames, renamed_text
from chaosbus.runner.command import run_with_console
from chaosbus.runner.run import RunOptions
from chaosbus.settings import resolve_history, resolve_kafka, resolve_redis


@one_line_errors
def rerun(
    run_id: str = typer.Argument(help="The history id of the run to repeat."),
    topic: list[str] | None = typer.Option(
        None, "--topic", help="OLD=NEW: run on another topic (repeat); decisions keep their key."
    ),
    report: Report = None,
    bootstrap: Bootstrap = None,
    kafka_config: KafkaConfig = None,
    redis: RunRedis = None,
    actor: Actor = None,
    key_prefix: KeyPrefix = "",
    share_route: ShareRoute = False,
    label: Labels = None,
    history: History = None,
    no_history: NoHistory = False,
    junit: Junit = None,
    fail_on_regression: FailOnRegression = False,
    tolerance: Tolerance = "10%",
) -> None:
    """Run a stored experiment again (its exact text and seed) and compare with the original:
    exit as `run` does (0 held, 1 violated, 2 invalid input or an unknown id, 3 aborted,
    4 inconclusive), 5 under --fail-on-regression when it held but regressed."""
    location = resolve_history(history)
    assert location is not None
    with open_history(location) as store:
        original = store.get(run_id)
    program = program_of(
        history=history,
        no_history=no_history,
        labels=label,
        origin="rerun",
        baseline=run_id,
        fail_on_regression=fail_on_regression,
        tolerance=tolerance,
        report=report,
        junit=junit,
    )
    # The original's labels (its service, say), then what the user gives over them.
    program = replace(program, labels={**original.summary.labels, **program.labels})
    renames = parse_renames(topic or [])
    origin = f"run {run_id} from the history"
    text = renamed_text(original.experiment_text, renames, origin=origin)
    spec = parse_experiment_text(text, origin=origin)
    same = (
        "its exact text"
        if not renames
        else "its text with topics renamed "
        + ", ".join(f"{old} → {new}" for old, new in renames.items())
    )
    baseline = Baseline(original, "the run re-run", f"the stored experiment {run_id}, {same}.")
    kept = FactsKept()
    options = RunOptions(
        kafka=resolve_kafka(bootstrap, kafka_config),
        redis_url=resolve_redis(redis),
        actor=actor or default_actor(),
        key_prefix=key_prefix,
        content_sha256=content_sha256(text.encode("utf-8")),
        label=origin,
        share_route=share_route,
        on_facts=kept,
    )
    outcome = asyncio.run(run_with_console(spec, options))
    done = conclude(
        program,
        outcome,
        kept.facts,
        text=text,
        baseline=baseline,
        tier=spec.tier,
        rerun_of=run_id,
        say=say,
    )
    raise typer.Exit(done.exit_code)
