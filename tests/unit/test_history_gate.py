"""Baselines and the regression gate: what is comparable, what counts as worse (with its
tolerance), and the exit code (5) a regression of a run that held gets under the gate."""

from __future__ import annotations

from pathlib import Path

import pytest

from chaosbus.errors import EXIT_REGRESSION
from chaosbus.history.connect import open_history
from chaosbus.history.entry import measures_of
from chaosbus.history.errors import NotComparable, UnknownRun
from chaosbus.history.gate import Baseline, Tolerance, choose_baseline, compare, exit_code
from chaosbus.history.location import Location
from chaosbus.history.program import Program, conclude
from chaosbus.history.store import SqlHistory
from chaosbus.report.comparison import Comparison
from tests.unit.history_support import DAY_MS, T0, experiment_text, stored

TEXT = experiment_text()


def rows(comparison: Comparison) -> dict[str, tuple[object, object, str, bool, str]]:
    return {
        r.measure: (r.baseline, r.current, r.allowed, r.regression, r.note) for r in comparison.rows
    }


def against(before: dict[str, object], now: dict[str, object], **gate: bool) -> Comparison:
    baseline = Baseline(stored("b", **before), "last", "same.")  # type: ignore[arg-type]
    current = stored("n", **now).report  # type: ignore[arg-type]
    return compare(measures_of(current), current.status, baseline, Tolerance(), **gate)


class TestWorse:
    def test_a_new_anomaly_class_is_a_regression(self) -> None:
        """The baseline had no lost_event; one now is a regression, whatever the tolerance."""
        found = rows(against({}, {"anomalies": {"lost_event": 1}}))
        assert found["anomalies.lost_event"] == (0.0, 1.0, "≤ 0", True, "new anomaly class")

    def test_a_count_within_the_tolerance_passes_and_beyond_it_fails(self) -> None:
        """10 → 11 is within 10 % (allowed ≤ 11); 10 → 12 is not."""
        within = rows(against({"anomalies": {"lost_event": 10}}, {"anomalies": {"lost_event": 11}}))
        beyond = rows(against({"anomalies": {"lost_event": 10}}, {"anomalies": {"lost_event": 12}}))
        assert within["anomalies.lost_event"] == (10.0, 11.0, "≤ 11", False, "")
        assert beyond["anomalies.lost_event"] == (10.0, 12.0, "≤ 11", True, "")

    def test_time_to_recovery_beyond_tolerance_and_slack(self) -> None:
        """2 s → 3.2 s is allowed (≤ 2 x 1.1 + 1 = 3.2); 3.3 s is not; none is."""
        assert rows(against({"ttr": 2.0}, {"ttr": 3.2}))["time_to_recovery_s"][3] is False
        assert rows(against({"ttr": 2.0}, {"ttr": 3.3}))["time_to_recovery_s"] == (
            2.0, 3.3, "≤ 3.2", True, ""
        )  # fmt: skip
        assert rows(against({"ttr": 2.0}, {"ttr": None}))["time_to_recovery_s"] == (
            2.0, None, "≤ 3.2", True, "did not recover"
        )  # fmt: skip

    def test_a_judged_share_that_fell(self) -> None:
        """100 % → 98 % fell more than 1 point; → 99.5 % did not."""
        assert rows(against({}, {"judged": 98}))["coverage.judged_share"][3] is True
        assert rows(against({}, {"judged": 99}))["coverage.judged_share"][3] is False

    def test_equal_runs_do_not_regress(self) -> None:
        """The same measures: no row is a regression; the headline says so."""
        comparison = against({"ttr": 1.0}, {"ttr": 1.0})
        assert not comparison.regressed
        assert comparison.headline().startswith("no regression against baseline b (last, ")


class TestExitCode:
    def test_a_held_run_that_regressed_exits_5_only_under_the_gate(self) -> None:
        """Gate on: 5; gate off: the verdict's 0; a violated run keeps its 1."""
        regressed = {"ttr": 9.0}
        assert exit_code(0, against({"ttr": 1.0}, regressed, gate=True)) == EXIT_REGRESSION == 5
        assert exit_code(0, against({"ttr": 1.0}, regressed, gate=False)) == 0
        assert exit_code(1, against({"ttr": 1.0}, regressed, gate=True)) == 1
        assert exit_code(0, None) == 0


@pytest.fixture
def store(tmp_path: Path) -> SqlHistory:
    opened = open_history(Location("sqlite", str(tmp_path / "h.sqlite")))
    labels = {"service": "orders", "version": "1"}
    for run in (
        stored("old-held", started_ms=T0, ttr=1.0, labels=labels),
        stored("violated", started_ms=T0 + DAY_MS, anomalies={"lost_event": 2}, labels=labels),
        stored("aborted", started_ms=T0 + 2 * DAY_MS, labels=labels),
        stored("check", started_ms=T0 + 3 * DAY_MS, live=False, origin="check", labels=labels),
        stored("billing", started_ms=T0 + 4 * DAY_MS, labels={"service": "billing"}),
        stored("edited", started_ms=T0 + 5 * DAY_MS, text=experiment_text(seed=8), labels=labels),
    ):
        if run.summary.id == "aborted":
            run = run.model_copy(
                update={"summary": run.summary.model_copy(update={"status": "aborted"})}
            )
        opened.append(run)
    return opened


class TestComparable:
    def choose(self, store: SqlHistory, choice: str, **labels: str) -> Baseline | None:
        return choose_baseline(
            store, choice, experiment="paid-once", experiment_text=TEXT,
            labels=labels or {"service": "orders", "version": "2"},
        )  # fmt: skip

    def test_last_is_the_newest_live_judged_run_of_the_same_text_and_service(
        self, store: SqlHistory
    ) -> None:
        """Not the edited text, not billing's, not the check, not the aborted run."""
        chosen = self.choose(store, "last")
        assert chosen is not None
        assert chosen.run.summary.id == "violated"
        assert chosen.comparable.startswith("same experiment name and text (sha256 ")
        assert "service=orders" in chosen.comparable

    def test_best_is_the_fewest_anomalies(self, store: SqlHistory) -> None:
        """Of the comparable runs, the held one with no anomaly."""
        chosen = self.choose(store, "best")
        assert chosen is not None
        assert chosen.run.summary.id == "old-held"

    def test_none_comparable_is_none(self, store: SqlHistory) -> None:
        """Another service with no run: nothing to compare."""
        assert self.choose(store, "last", service="payments") is None

    def test_an_id_of_the_same_name_with_another_text_is_allowed_and_said(
        self, store: SqlHistory
    ) -> None:
        """Chosen by id, the edited text is compared, and the comparison says so."""
        chosen = self.choose(store, "edited")
        assert chosen is not None
        assert "another text (sha256 " in chosen.comparable

    def test_an_id_of_another_experiment_is_refused(self, store: SqlHistory) -> None:
        """A baseline of another experiment: NotComparable, one line (exit 2)."""
        with pytest.raises(NotComparable) as raised:
            choose_baseline(store, "old-held", experiment="lost-events", experiment_text=TEXT,
                            labels={})  # fmt: skip
        assert str(raised.value) == (
            "baseline old-held is a run of 'paid-once', not of 'lost-events': "
            "a baseline must be a run of the same experiment"
        )
        assert raised.value.exit_code == 2

    def test_an_unknown_id_is_refused(self, store: SqlHistory) -> None:
        """A baseline id the history does not have: UnknownRun (exit 2)."""
        with pytest.raises(UnknownRun):
            self.choose(store, "nope")


class TestConclude:
    def test_an_unwritable_history_is_one_line_and_the_exit_code_stays(
        self, tmp_path: Path
    ) -> None:
        """A corrupt history file: the run is not recorded, one line is said, the verdict's
        exit code (1, violated) is unchanged and the report files are still written."""
        bad = tmp_path / "h.sqlite"
        bad.write_bytes(b"garbage" * 100)
        run = stored("r1", anomalies={"duplicate_effect": 1})
        said: list[str] = []
        program = Program(history=Location("sqlite", str(bad)), report=tmp_path / "r.json")
        done = conclude(program, run.report, run.facts, text=run.experiment_text,
                        baseline=None, say=said.append)  # fmt: skip
        assert (done.exit_code, done.recorded) == (1, False)
        assert said == [
            f"report: {tmp_path / 'r.json'}",
            f"report: {tmp_path / 'r.md'}",
            f"report: {tmp_path / 'r.html'}",
            f"chaosbus: history not written: history {bad} is not an SQLite database "
            "(file is not a database)",
        ]

    def test_a_recorded_run_carries_its_comparison(self, tmp_path: Path) -> None:
        """With a baseline, the stored report and the JSON have the side-by-side table."""
        location = Location("sqlite", str(tmp_path / "h.sqlite"))
        before = stored("b1", ttr=1.0)
        now = stored("n1", ttr=8.0)
        said: list[str] = []
        program = Program(history=location, fail_on_regression=True, baseline="last")
        done = conclude(program, now.report, now.facts, text=now.experiment_text,
                        baseline=Baseline(before, "last", "same."), say=said.append)  # fmt: skip
        assert done.exit_code == 5
        assert said[0].startswith("baseline: REGRESSION against baseline b1 (last, ")
        assert said[0].endswith("): time_to_recovery_s")
        with open_history(location) as store:
            kept = store.get("n1")
        assert kept.report.baseline == done.report.baseline
        assert kept.report.baseline is not None
        assert kept.report.baseline.gate
