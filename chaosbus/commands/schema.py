"""`chaosbus schema`: the JSON Schema of experiment files (chaosbus.experiment.json_schema)."""

from __future__ import annotations

import typer

from chaosbus.commands.shell import one_line_errors
from chaosbus.experiment.json_schema import schema_text


@one_line_errors
def schema() -> None:
    """Print the JSON Schema of experiment files, for editors: `chaosbus schema > FILE`."""
    typer.echo(schema_text(), nl=False)
