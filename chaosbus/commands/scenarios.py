"""`chaosbus scenarios [--platform NAME] [show NAME]`: the shipped scenario library
(chaosbus.scenarios), one platform's with their sources (chaosbus.platforms)."""

from __future__ import annotations

import typer

from chaosbus.commands.options import ListedPlatform
from chaosbus.commands.shell import one_line_errors
from chaosbus.platforms.profile import profile
from chaosbus.platforms.scenarios import platform_scenarios
from chaosbus.scenarios import load_experiment_or_scenario, scenario, scenario_names

group = typer.Typer(
    help="The shipped scenario library.", invoke_without_command=True, no_args_is_help=False
)


@group.callback()
@one_line_errors
def scenarios_list(context: typer.Context, platform: ListedPlatform = None) -> None:
    """List the shipped scenarios with their hypotheses (`chaosbus run NAME` runs one)."""
    if context.invoked_subcommand is not None:
        return
    if platform is not None:
        for line in platform_scenario_lines(platform):
            typer.echo(line)
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


def platform_scenario_lines(platform: str) -> list[str]:
    """`chaosbus scenarios --platform NAME`: its scenarios, hypotheses and cited facts."""
    found = profile(platform)  # an unknown platform: one line, exit 2
    lines: list[str] = []
    for name, owner in platform_scenarios().items():
        if owner != found.name:
            continue
        spec = load_experiment_or_scenario(name)
        lines += [name, f"    {spec.hypothesis}"]
        lines += [f"    {line}" for line in (spec.description or "").splitlines()]
    unconfirmed = found.unconfirmed()
    if unconfirmed:
        lines.append(f"    not confirmed from a public source: {', '.join(unconfirmed)}")
    return lines
