"""What `chaosbus history` shows: trends per scenario x service, the plain-language
indicators, the tables, the page (rendered in headless Chromium with the network off), and
the command's answers to bad input (one line, exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from chaosbus.cli import app
from chaosbus.history.connect import open_history
from chaosbus.history.entry import StoredRun
from chaosbus.history.location import Location
from chaosbus.history.page import to_page
from chaosbus.history.trends import indicator, trends
from tests.unit.history_support import DAY_MS, T0, stored
from tests.unit.test_report_chromium import CHROMIUM, browse


def series() -> list[StoredRun]:
    """orders-api: violated, then held 3 times with recovery 14 s → 3 s; billing: held once;
    and a check, which trends leave out."""
    orders = {"service": "orders-api"}
    return [
        stored("r0", started_ms=T0, anomalies={"duplicate_effect": 4}, ttr=None, labels=orders),
        stored("r1", started_ms=T0 + DAY_MS, ttr=14.0, labels=orders),
        stored("r2", started_ms=T0 + 2 * DAY_MS, ttr=6.0, labels=orders),
        stored("r3", started_ms=T0 + 3 * DAY_MS, ttr=3.0, labels=orders),
        stored("b1", started_ms=T0 + 3 * DAY_MS, labels={"service": "billing"}),
        stored("c1", started_ms=T0 + 4 * DAY_MS, live=False, origin="check", labels=orders),
    ]


@pytest.fixture
def location(tmp_path: Path) -> Location:
    where = Location("sqlite", str(tmp_path / "history.sqlite"))
    with open_history(where) as store:
        for run in series():
            store.append(run)
    return where


class TestTrends:
    def test_grouped_by_scenario_and_service_oldest_first_without_checks(self) -> None:
        """Two groups; orders-api's four live runs in time order; the check left out."""
        found = trends(run.summary for run in series())
        assert [(t.experiment, t.service) for t in found] == [
            ("paid-once", "billing"), ("paid-once", "orders-api")
        ]  # fmt: skip
        assert [r.id for r in found[1].runs] == ["r0", "r1", "r2", "r3"]

    def test_the_indicator_says_the_streak_and_what_changed(self) -> None:
        """The sentence the issue asks for, from the data: streak, since, recovery first → last."""
        orders = trends(run.summary for run in series())[1]
        assert indicator(orders) == (
            "paid-once on orders-api: held 3 runs in a row since 2026-09-22; "
            "time to recovery 14 s → 3 s; anomalies 4 → 0"
        )

    def test_a_violated_streak_says_when_it_last_held(self) -> None:
        """Last run violated: `violated in its last run`, and when it last held."""
        runs = [
            stored("a", started_ms=T0, ttr=1.0),
            stored("b", started_ms=T0 + DAY_MS, anomalies={"lost_event": 1}, ttr=1.0),
        ]
        (trend,) = trends(r.summary for r in runs)
        assert indicator(trend) == (
            "paid-once on orders-api: violated in its last run (2026-09-22); "
            "last held 2026-09-21; anomalies 0 → 1"
        )


class TestCommand:
    def test_the_table_lists_the_runs_newest_first(self, location: Location) -> None:
        """Every run, its status and labels; exit 0."""
        result = CliRunner().invoke(app, ["history", "--history", location.target])
        assert result.exit_code == 0, result.output
        cells = [line.split()[1] for line in result.stdout.splitlines() if line.startswith("│ ")]
        ids = [cell for cell in cells if cell != "│"]  # a wrapped row continues with an empty id
        assert ids[1:] == ["r3", "b1", "r2", "r1", "r0"]  # the same start: by id, descending
        assert len(ids[0]) == 12  # the check, filed under an id of its own
        assert "6 runs in" in result.stdout
        assert result.stdout.count("VIOLATED") == 1

    def test_filters_and_one_run(self, location: Location) -> None:
        """--label and --status narrow; an id shows that run with its report."""
        runner = CliRunner()
        narrowed = runner.invoke(
            app, ["history", "--history", location.target, "--label", "service=billing"]
        )
        assert "b1" in narrowed.stdout
        assert "r1" not in narrowed.stdout
        violated = runner.invoke(app, ["history", "--history", location.target,
                                       "--status", "violated"])  # fmt: skip
        assert "r0" in violated.stdout
        assert "r3" not in violated.stdout
        shown = runner.invoke(app, ["history", "r0", "--history", location.target])
        assert shown.exit_code == 0
        assert "history id r0 (run)" in shown.stdout
        assert "# paid-once — VIOLATED" in shown.stdout
        assert "**cause:** e1 delivered twice by fault `dup`" in shown.stdout

    def test_trend_and_page(self, location: Location, tmp_path: Path) -> None:
        """--trend prints the table and the indicators; --html writes the page."""
        page = tmp_path / "out" / "history.html"
        result = CliRunner().invoke(
            app, ["history", "--history", location.target, "--trend", "--html", str(page)]
        )
        assert result.exit_code == 0, result.output
        assert "held 3 runs in a row since 2026-09-22" in result.stdout
        assert page.read_text().startswith("<!doctype html>")

    @pytest.mark.parametrize(
        ("argv", "line"),
        [
            (["nope"], "no run 'nope' in the history {h}"),
            (["--status", "fine"], "--status 'fine': one of held, violated, aborted,"),
            (["--since", "yesterday"], "--since 'yesterday': a date like 2026-11-20"),
            (["--label", "service"], "--label 'service': expected NAME=VALUE"),
        ],
    )
    def test_bad_input_is_one_line_exit_2(
        self, location: Location, argv: list[str], line: str
    ) -> None:
        """An unknown id, status, date or label: `chaosbus: …`, exit 2."""
        result = CliRunner().invoke(app, ["history", *argv, "--history", location.target])
        assert result.exit_code == 2
        assert result.stderr.startswith("chaosbus: " + line.format(h=location.target))
        assert result.stderr.count("\n") == 1

    def test_a_corrupt_or_newer_history_is_one_line_exit_2(self, tmp_path: Path) -> None:
        """Garbage bytes: refused in one line, exit 2."""
        bad = tmp_path / "h.sqlite"
        bad.write_bytes(b"\x00garbage" * 64)
        result = CliRunner().invoke(app, ["history", "--history", str(bad)])
        assert result.exit_code == 2
        assert result.stderr == (
            f"chaosbus: history {bad} is not an SQLite database (file is not a database)\n"
        )

    def test_an_unknown_scheme_is_refused(self) -> None:
        """mysql://…: the history is a file or PostgreSQL; the password never shown."""
        result = CliRunner().invoke(app, ["history", "--history", "mysql://u:secret@h/db"])
        assert result.exit_code == 2
        assert "secret" not in result.stderr
        assert "not mysql://" in result.stderr


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
class TestPageInChromium:
    def test_matrix_indicators_and_plots_render_offline(self, tmp_path: Path) -> None:
        """After its scripts ran, the DOM has the indicators, a coloured matrix cell per
        live run and plotly's drawn SVG: nothing came from the network."""
        page = tmp_path / "history.html"
        summaries = [run.summary for run in reversed(series())]
        page.write_text(to_page(summaries, where="test", now_ms=T0 + 5 * DAY_MS))
        dom = browse(page, tmp_path / "profile", "--dump-dom")
        assert "paid-once on orders-api: held 3 runs in a row since 2026-09-22" in dom
        assert dom.count('class="cell" data-status="held"') == 4
        assert dom.count('class="cell" data-status="violated"') == 1
        assert 'class="main-svg"' in dom
