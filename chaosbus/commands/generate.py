"""`chaosbus generate`: a traffic spec's records into a recording file, to replay."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

import chaosbus
from chaosbus.commands import values
from chaosbus.commands.options import Force, GeneratorSeed, RecordingOut
from chaosbus.commands.shell import one_line_errors
from chaosbus.traffic.file_format import RecordingWriter
from chaosbus.traffic.generator import generate
from chaosbus.traffic.generator_spec import load_traffic_spec


@one_line_errors
def generate_command(
    spec_file: Annotated[Path, typer.Argument(help="A traffic spec (YAML; docs/traffic.md).")],
    out: RecordingOut,
    seed: GeneratorSeed = None,
    force: Force = False,
) -> None:
    """Write the records a traffic spec describes: exit 0, or 2 for an invalid spec.

    Connects to nothing; `chaosbus replay FILE --to TOPIC` plays the result at its pace.
    """
    spec = load_traffic_spec(spec_file)
    values.new_file(out, force)
    drawn_with = spec.seed if seed is None else seed
    meta = {
        "chaosbus": chaosbus.__version__,
        "generator": {"spec": str(spec_file), "name": spec.name, "seed": drawn_with},
    }
    with RecordingWriter(out, meta) as writer:
        for record in generate(spec, seed=seed):
            writer.write(record)
    end = writer.end
    typer.echo(
        f"generated {end.records} messages over {spec.duration_s:g} s from {spec_file} to {out}"
    )
