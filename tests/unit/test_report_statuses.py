"""The table of statuses: every status has one row, and every renderer reads it."""

from __future__ import annotations

from rich.console import Console

from chaosbus.runner.console import verdict_table
from tests.unit.test_report_render import sample


def rendered(table: object) -> str:
    console = Console(width=200, record=True, force_terminal=False)
    with console.capture() as captured:
        console.print(table)
    return captured.get()


class TestRegression:
    def test_console_renders_an_inconclusive_report(self) -> None:
        """An inconclusive run once crashed the console (KeyError) before any report was
        written; its verdict table now names the status."""
        report = sample("inconclusive")
        assert "duplicate-storm: INCONCLUSIVE" in rendered(verdict_table(report))
