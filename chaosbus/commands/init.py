"""`chaosbus init [PATH]`: a starter experiment to edit (chaosbus.scenarios.starter)."""

from __future__ import annotations

from pathlib import Path

import typer

from chaosbus.commands.options import StarterSource
from chaosbus.commands.shell import fail, one_line_errors
from chaosbus.experiment.loader import load_experiment
from chaosbus.scenarios.starter import starter_experiment


@one_line_errors
def init(
    path: Path = typer.Argument(Path("experiment.yaml"), help="Where to write the starter."),
    source: StarterSource = "orders.nocode",
    destination: str = typer.Option("orders", "--to", help="Topic the service reads."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Write a starter experiment to edit: one route, one duplicate fault, one entity check."""
    if path.exists() and not force:
        raise fail(f"{path} exists (pass --force to overwrite it)")
    path.write_text(starter_experiment(source, destination), encoding="utf-8")
    load_experiment(path)  # the starter must itself be valid
    typer.echo(f"wrote {path}; check it with: chaosbus validate {path}")
