"""`chaosbus validate FILE [--faults]`: an experiment or fault file checked; connects to nothing."""

from __future__ import annotations

from pathlib import Path

import typer

from chaosbus.commands.options import Experiment
from chaosbus.commands.shell import one_line_errors
from chaosbus.experiment.sides import describe_sides
from chaosbus.scenarios import load_experiment_or_scenario
from chaosbus.standalone.topics import load_fault_file_or_fail


@one_line_errors
def validate(
    file: Experiment,
    faults: bool = typer.Option(
        False, "--faults", help="FILE is a fault file (for chaosbus proxy --fault)."
    ),
) -> None:
    """Check an experiment file; one line per problem, exit 2 if any. Connects to nothing."""
    if faults:
        fault_file = load_fault_file_or_fail(Path(file))
        typer.echo(f"{file}: valid fault file ({len(fault_file.faults)} faults)")
        return
    spec = load_experiment_or_scenario(file)
    typer.echo(f"{file}: valid experiment {spec.name!r} ({describe_sides(spec)})")
