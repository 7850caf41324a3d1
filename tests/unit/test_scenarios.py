"""The shipped scenario library: listed, shown, run by name, and a starter to edit."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from chaosbus.cli import app
from chaosbus.errors import InvalidInput
from chaosbus.scenarios import load_experiment_or_scenario, scenario, scenario_names

SHIPPED = [
    "create-after-update",
    "duplicate-storm",
    "first-n-fail",
    "flaky-api",
    "http-view",
    "lost-events",
    "out-of-order-updates",
    "outage-catch-up",
    "poison-message",
    "replay-storm",
    "schema-drift",
    "slow-automation",
    "stale-redelivery",
]
# Generated from the platform profiles (chaosbus/platforms/profiles/*.yaml), not files.
PLATFORM_SCENARIOS = [
    f"{name}-delivery"
    for name in ("make", "n8n", "node-red", "power-automate", "webhook", "zapier")
]
LIBRARY = sorted([*SHIPPED, *PLATFORM_SCENARIOS])


class TestLibrary:
    def test_names_are_the_shipped_files(self) -> None:
        """The library lists the YAML files packaged beside it and one scenario per platform."""
        assert scenario_names() == LIBRARY

    def test_a_name_loads_the_packaged_file(self) -> None:
        """A bare name resolves to the package data, whatever the working directory."""
        assert load_experiment_or_scenario("duplicate-storm").name == "duplicate-storm"

    def test_an_unknown_name_lists_the_known_ones(self) -> None:
        """A typo is one line naming what exists."""
        with pytest.raises(InvalidInput, match="no scenario named 'nope' \\(shipped: create-"):
            scenario("nope")

    def test_a_path_is_read_as_a_file(self, tmp_path: Path) -> None:
        """Something that looks like a path is never taken for a scenario name."""
        with pytest.raises(InvalidInput, match=r"missing\.yaml"):
            load_experiment_or_scenario(str(tmp_path / "missing.yaml"))


class TestCommands:
    def test_scenarios_lists_names_and_hypotheses(self) -> None:
        """`chaosbus scenarios` prints each name and its hypothesis."""
        result = CliRunner().invoke(app, ["scenarios"])
        assert result.exit_code == 0
        names = [line for line in result.output.splitlines() if not line.startswith(" ")]
        assert names == LIBRARY
        assert "delivers each event two or three times." in result.output

    def test_show_prints_the_file(self) -> None:
        """`chaosbus scenarios show NAME` prints the file as shipped."""
        result = CliRunner().invoke(app, ["scenarios", "show", "lost-events"])
        assert result.exit_code == 0
        assert result.output == scenario("lost-events").text

    def test_init_writes_a_valid_starter_and_refuses_to_overwrite(self, tmp_path: Path) -> None:
        """`chaosbus init` writes a file validate accepts, and never clobbers one silently."""
        target = tmp_path / "exp.yaml"
        first = CliRunner().invoke(app, ["init", str(target), "--from", "a.in", "--to", "a.out"])
        assert first.exit_code == 0
        spec = load_experiment_or_scenario(str(target))
        assert [(r.source, r.destination) for r in spec.routes] == [("a.in", "a.out")]
        again = CliRunner().invoke(app, ["init", str(target)])
        assert again.exit_code == 2
        assert "exists" in again.output
