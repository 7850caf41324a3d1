"""`chaosbus scenarios [show NAME]`: the shipped scenario library (chaosbus.scenarios)."""

from __future__ import annotations

import typer

from chaosbus.commands.shell import one_line_errors
from chaosbus.scenarios import load_experiment_or_scenario, scenario, scenario_names

group = typer.Typer(
    help="The shipped scenario library.", invoke_without_command=True, no_args_is_help=False
)


@group.callback()
def scenarios_list(context: typer.Context) -> None:
    """List the shipped scenarios with their hypotheses (`chaosbus run NAME` runs one)."""
    if context.invoked_subcommand is not None:
        return
    for name in scenario_names():
        spec = load_experiment_or_scenario(name)
        typer.echo(f"{name}\n    {spec.hypothesis}")


@group.command("show")
@one_line_errors
def scenarios_show(
    name: str = typer.Argument(..., help="A name from `chaosbus scenarios`."),
) -> None:
    """Print one shipped scenario's file, to read or to copy and edit."""
    typer.echo(scenario(name).text, nl=False)
