"""The table of statuses: every status has one row, and every renderer reads it.

The renderers are listed once below (`RENDERERS`); each test runs every row of
`STATUSES` through them, so a status added to the table and missed by a renderer (a dict
of its own, a forgotten branch) fails here, not on a user's run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import get_args

import pytest
from rich.console import Console
from rich.table import Table
from rich.text import Text

from chaosbus.errors import (
    EXIT_ABORTED,
    EXIT_HELD,
    EXIT_INCONCLUSIVE,
    EXIT_INVALID,
    EXIT_VIOLATED,
)
from chaosbus.report import STATUSES, RunReport, Status, StatusRow, to_html, to_markdown
from chaosbus.report.junit import to_junit
from chaosbus.runner.console import verdict_table
from chaosbus.runner.verdict import Conclusion
from chaosbus_demo.display import side_by_side
from chaosbus_demo.expectations import Verdict
from tests.unit.test_report_render import sample

ROWS = sorted(STATUSES.values(), key=lambda row: row.exit_code)


def rendered(table: Table) -> str:
    console = Console(width=200, record=True, force_terminal=False)
    with console.capture() as captured:
        console.print(table)
    return captured.get()


def console_text(report: RunReport) -> str:
    return rendered(verdict_table(report))


def demo_text(report: RunReport) -> str:
    return rendered(side_by_side([Verdict("duplicate-storm", "safe", report)]))


def json_text(report: RunReport) -> str:
    return report.model_dump_json()


def junit_text(report: RunReport) -> str:
    return to_junit([report])


# Every rendering a person or a tool reads a status from; a new one (JUnit…) goes here.
RENDERERS: dict[str, Callable[[RunReport], str]] = {
    "console": console_text,
    "json": json_text,
    "markdown": to_markdown,
    "html": to_html,
    "demo": demo_text,
    "junit": junit_text,
}


class TestRegression:
    def test_console_renders_an_inconclusive_report(self) -> None:
        """An inconclusive run once crashed the console (KeyError) before any report was
        written; its verdict table now names the status."""
        report = sample("inconclusive")
        assert "duplicate-storm: INCONCLUSIVE" in console_text(report)


class TestTable:
    def test_the_status_type_and_the_table_name_the_same_statuses(self) -> None:
        """`Status` (what the JSON accepts) has exactly the table's rows, in both directions."""
        assert set(get_args(Status)) == set(STATUSES)
        assert all(name == row.name for name, row in STATUSES.items())

    def test_the_json_schema_lists_the_table(self) -> None:
        """The report's JSON Schema enumerates the table's statuses, for tools that read it."""
        schema = RunReport.model_json_schema()
        assert set(schema["properties"]["status"]["enum"]) == set(STATUSES)

    def test_the_documented_exit_codes(self) -> None:
        """0 held, 1 violated, 2 error, 3 aborted, 4 inconclusive (README, `chaosbus --help`)."""
        codes = {name: row.exit_code for name, row in STATUSES.items()}
        assert codes == {
            "held": EXIT_HELD,
            "violated": EXIT_VIOLATED,
            "error": EXIT_INVALID,
            "aborted": EXIT_ABORTED,
            "inconclusive": EXIT_INCONCLUSIVE,
        }
        assert sorted(codes.values()) == [0, 1, 2, 3, 4]

    def test_rows_are_told_apart(self) -> None:
        """No two statuses share a badge, a colour, a console style or a wording."""
        for field in ("badge", "colour", "console_style", "wording"):
            values = [getattr(row, field) for row in ROWS]
            assert len(set(values)) == len(values), field


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.name)
class TestEveryRendererReadsEveryRow:
    @pytest.mark.parametrize("renderer", sorted(RENDERERS))
    def test_renders_without_error_and_names_the_status(
        self, row: StatusRow, renderer: str
    ) -> None:
        """Every renderer renders a report of every status and names it."""
        text = RENDERERS[renderer](sample(row.name))
        assert (row.name if renderer == "json" else row.badge) in text

    def test_exit_code(self, row: StatusRow) -> None:
        """The report's and the conclusion's exit codes are the row's."""
        assert sample(row.name).exit_code == row.exit_code
        assert Conclusion(row.name).exit_code == row.exit_code

    def test_json_round_trip(self, row: StatusRow) -> None:
        """The JSON carries the row's name and reads back to the same report."""
        text = json_text(sample(row.name))
        assert json.loads(text)["status"] == row.name
        assert RunReport.model_validate_json(text) == sample(row.name)

    def test_console_title_style_and_wording(self, row: StatusRow) -> None:
        """The console's title names the badge, the wording and the exit code, in the
        row's style; its second line the run, its start and duration."""
        table = verdict_table(sample(row.name))
        assert table.title == (
            f"duplicate-storm: {row.badge} — {row.wording} (exit {row.exit_code})\n"
            "run abc, started 2026-01-01T00:00:00+00:00, 9.5 s"
        )
        assert table.title_style == row.console_style

    def test_markdown_title_and_wording(self, row: StatusRow) -> None:
        """The Markdown's first line names the badge; the verdict line its wording and code."""
        lines = to_markdown(sample(row.name)).splitlines()
        assert lines[0] == f"# duplicate-storm — {row.badge}"
        assert f"**{row.badge}** (exit {row.exit_code}): {row.wording}." in lines

    def test_html_badge_colour_and_wording(self, row: StatusRow) -> None:
        """The HTML badge carries the name, exit code and colour; the wording follows."""
        page = to_html(sample(row.name))
        assert (
            f'data-status="{row.name}"\n data-exit-code="{row.exit_code}" '
            f'style="background: {row.colour}">{row.badge}</span>'
        ) in page
        assert (
            f'<p id="wording"><strong>{row.badge}</strong> (exit {row.exit_code}): '
            f"{row.wording}.</p>"
        ) in page

    def test_demo_summary_style(self, row: StatusRow) -> None:
        """The demo's summary shows the badge in the row's console style."""
        table = side_by_side([Verdict("duplicate-storm", "safe", sample(row.name))])
        verdict_cell = next(iter(table.columns[2].cells))
        assert isinstance(verdict_cell, Text)
        assert (verdict_cell.plain, verdict_cell.style) == (row.badge, row.console_style)
