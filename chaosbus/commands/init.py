"""`chaosbus init [PATH]`: a starter experiment to edit (chaosbus.scenarios.starter), and the
JSON Schema beside it that its first line points editors at (chaosbus.experiment.json_schema)."""

from __future__ import annotations

from pathlib import Path

import typer

from chaosbus.commands.options import Force, StarterDestination, StarterProbe, StarterSource
from chaosbus.commands.shell import fail, one_line_errors
from chaosbus.experiment.json_schema import SCHEMA_FILE, schema_text
from chaosbus.experiment.loader import load_experiment
from chaosbus.scenarios.starter import STARTER_PROBES, starter_experiment
from chaosbus.traffic.init_from_recording import write_from_recording


@one_line_errors
def init(
    path: Path = typer.Argument(Path("experiment.yaml"), help="Where to write the starter."),
    source: StarterSource = "orders.nocode",
    destination: StarterDestination = "orders",
    probe: StarterProbe = "redis",
    force: Force = False,
    from_recording: Path | None = typer.Option(
        None, "--from-recording", help="Propose extractors and a traffic spec from a recording."
    ),
) -> None:
    """Write a starter experiment to edit: one route, one duplicate fault, one check reading
    the service with --probe; and the JSON Schema beside it, for editors."""
    if from_recording is not None:
        for line in write_from_recording(path, from_recording, source, destination, force):
            typer.echo(line)
        return
    if probe not in STARTER_PROBES:
        raise fail(f"--probe {probe!r}: expected one of {', '.join(STARTER_PROBES)}")
    if path.exists() and not force:
        raise fail(f"{path} exists (pass --force to overwrite it)")
    # The schema is the installed version's: written (again) every time, never stale.
    schema = path.parent / SCHEMA_FILE
    schema.write_text(schema_text(), encoding="utf-8")
    text = starter_experiment(source, destination, probe, schema=f"./{SCHEMA_FILE}")
    path.write_text(text, encoding="utf-8")
    load_experiment(path)  # the starter must itself be valid
    typer.echo(f"wrote {path} (probe: {probe}) and {schema}; check it: chaosbus validate {path}")
