"""`chaosbus check FILE --run-id ID`: a recorded run judged after the fact, shown as `run`
shows its verdict: the same summary table on stdout, the recorded run's own start, duration
and phases (from the run history when it holds the run, else the ledger's decisions)."""

from __future__ import annotations

import asyncio

import typer
from rich.console import Console

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
from chaosbus.history.connect import open_history
from chaosbus.history.errors import HistoryError
from chaosbus.history.location import Location
from chaosbus.history.program import conclude
from chaosbus.history.recorder import FactsKept
from chaosbus.runner.check_window import check_window
from chaosbus.runner.console import verdict_table, wide
from chaosbus.runner.facts import RunFacts
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
    2 invalid input or nothing judged, 4 inconclusive. Prints the summary table `run`
    prints, with the run's own start, duration and phases when the history holds the run
    (else the span of its ledger decisions); --report PATH writes the reports. The check is
    recorded in the history under an id of its own (see --history)."""
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
            recorded=recorded_run(program.history, run_id),
        )
    )
    wide(Console()).print(verdict_table(outcome))
    done = conclude(program, outcome, kept.facts, text=text, baseline=None, tier=spec.tier, say=say)
    raise typer.Exit(done.exit_code)


def recorded_run(history: Location | None, run_id: str) -> RunFacts | None:
    """The run's facts as its history entry kept them (a run's entry id is its run id):
    its window, phases and steady state before; None when there is no history or it does
    not hold the run."""
    if history is None:
        return None
    try:
        store = open_history(history)
        try:
            return store.get(run_id).facts
        finally:
            store.close()
    except HistoryError:
        return None  # not recorded there: the ledger's decisions give the window
