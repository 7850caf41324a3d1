"""`chaosbus plan FILE`: the dry run, what a run of FILE would do on a recent window
(chaosbus.planning)."""

from __future__ import annotations

import asyncio

import typer

from chaosbus.commands import values
from chaosbus.commands.options import (
    AsJson,
    Bootstrap,
    Count,
    Experiment,
    KafkaConfig,
    ReadTimeout,
    Window,
)
from chaosbus.commands.shell import one_line_errors
from chaosbus.planning.dry_run import DEFAULT_MAX_MESSAGES, dry_run
from chaosbus.scenarios import load_experiment_or_scenario
from chaosbus.settings import resolve_kafka


@one_line_errors
def plan(
    file: Experiment,
    window: Window = "10m",
    count: Count = DEFAULT_MAX_MESSAGES,
    timeout: ReadTimeout = "30s",
    as_json: AsJson = False,
    bootstrap: Bootstrap = None,
    kafka_config: KafkaConfig = None,
) -> None:
    """Predict what a run of FILE would do on the last --window (default 10m) of each
    route's source: faults by name and type, keys and entities touched, the peak of held
    copies, the caps that bind. Read-only (no group, no commit); nothing is injected.

    Exit 0, also when the window holds no message (nothing is predicted then); 2 on bad
    input or an unreachable broker."""
    spec = load_experiment_or_scenario(file)
    if not spec.routes:
        raise typer.Exit(_http_only(file, as_json))
    summary = asyncio.run(
        dry_run(
            spec,
            resolve_kafka(bootstrap, kafka_config),
            window_s=None if window is None else values.seconds("--window", window),
            max_messages=count,
            timeout_s=values.seconds("--timeout", timeout),
        )
    )
    if as_json:
        typer.echo(summary.model_dump_json(indent=2))
        return
    for line in summary.lines():
        typer.echo(line)
    if summary.empty:
        sources = ", ".join(r.route.split("->")[0] for r in summary.routes)
        typer.echo(f"{file}: no messages in the window of {sources}: nothing predicted")


def _http_only(file: str, as_json: bool) -> int:
    typer.echo("{}" if as_json else f"{file}: no topic routes: nothing to predict")
    return 0
