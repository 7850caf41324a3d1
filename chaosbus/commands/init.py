"""`chaosbus init [PATH]`: a starter experiment to edit (chaosbus.scenarios.starter)."""

from __future__ import annotations

from pathlib import Path

import typer

from chaosbus.commands.options import Force, StarterDestination, StarterSource
from chaosbus.commands.shell import fail, one_line_errors
from chaosbus.experiment.loader import load_experiment
from chaosbus.scenarios.starter import starter_experiment
from chaosbus.traffic.init_from_recording import write_from_recording


@one_line_errors
def init(
    path: Path = typer.Argument(Path("experiment.yaml"), help="Where to write the starter."),
    source: StarterSource = "orders.nocode",
    destination: StarterDestination = "orders",
    force: Force = False,
    from_recording: Path | None = typer.Option(
        None, "--from-recording", help="Propose extractors and a traffic spec from a recording."
    ),
) -> None:
    """Write a starter experiment to edit: one route, one duplicate fault, one entity check."""
    if from_recording is not None:
        for line in write_from_recording(path, from_recording, source, destination, force):
            typer.echo(line)
        return
    if path.exists() and not force:
        raise fail(f"{path} exists (pass --force to overwrite it)")
    path.write_text(starter_experiment(source, destination), encoding="utf-8")
    load_experiment(path)  # the starter must itself be valid
    typer.echo(f"wrote {path}; check it with: chaosbus validate {path}")
