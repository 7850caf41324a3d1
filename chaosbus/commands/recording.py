"""The flags `run`, `check`, `rerun`, `suite` and `demo` share about recording and gating,
turned into one `history.program.Program` (the labels and the location by
`chaosbus.settings`, which reads CHAOSBUS_LABELS and CHAOSBUS_HISTORY)."""

from __future__ import annotations

from pathlib import Path

import typer

from chaosbus.commands.values import share
from chaosbus.errors import InvalidInput
from chaosbus.history.entry import Origin
from chaosbus.history.gate import DEFAULT_MATCH, Tolerance
from chaosbus.history.program import Program
from chaosbus.settings import resolve_history, resolve_labels, step_summary_path


def program_of(
    *,
    history: str | None,
    no_history: bool,
    labels: list[str] | None,
    origin: Origin,
    baseline: str | None = None,
    match: list[str] | None = None,
    fail_on_regression: bool = False,
    tolerance: str = "10%",
    report: Path | None = None,
    junit: Path | None = None,
) -> Program:
    if fail_on_regression and baseline is None:
        raise InvalidInput("--fail-on-regression needs --baseline (last, best or a run id)")
    return Program(
        history=resolve_history(history, off=no_history),
        labels=resolve_labels(labels),
        baseline=baseline,
        match=tuple(match) if match else DEFAULT_MATCH,
        tolerance=Tolerance(relative=share("--tolerance", tolerance)),
        fail_on_regression=fail_on_regression,
        report=report,
        junit=junit,
        step_summary=step_summary_path(),
        origin=origin,
    )


def say(line: str) -> None:
    """A line for the user beside the verdict: on stderr."""
    typer.echo(line, err=True)
