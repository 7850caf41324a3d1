"""The JUnit file read back by junitparser (a JUnit reader CI report tools use): one test
suite per experiment, one case per hypothesis and per check, failures with the anomaly
examples and their causes, the verdict counted as the table of statuses says."""

from __future__ import annotations

from pathlib import Path

import pytest
from junitparser import Error, Failure, JUnitXml, TestCase, TestSuite

from chaosbus.history.entry import measures_of
from chaosbus.history.gate import Baseline, Tolerance, compare
from chaosbus.report.junit import write_junit
from chaosbus.report.model import RunReport
from chaosbus.report.status import STATUSES, StatusRow
from tests.unit.history_support import stored

ROWS = sorted(STATUSES.values(), key=lambda row: row.exit_code)


def read(path: Path) -> list[TestSuite]:
    return list(JUnitXml.fromfile(str(path)))


def cases(suite: TestSuite) -> dict[str, TestCase]:
    return {case.name: case for case in suite}


def violated() -> RunReport:
    return stored("v1", anomalies={"duplicate_effect": 3}).report


class TestStructure:
    def test_one_suite_per_experiment_one_case_per_hypothesis_and_check(
        self, tmp_path: Path
    ) -> None:
        """Two runs: two suites; each has the verdict, its one hypothesis and its one check."""
        held, broken = stored("h1").report, violated()
        path = write_junit([held, broken], tmp_path / "out" / "junit.xml")
        suites = read(path)
        assert [s.name for s in suites] == ["paid-once", "paid-once"]
        for suite in suites:
            assert sorted(cases(suite)) == ["check: paid", "hypothesis after: anomalies.total",
                                            "verdict"]  # fmt: skip
            assert suite.tests == 3
        assert (suites[0].failures, suites[1].failures) == (0, 3)
        properties = {p.name: p.value for p in suites[1].properties()}
        assert properties["run_id"] == "v1"
        assert properties["status"] == "violated"
        assert properties["seed"] == "7"

    def test_a_failure_carries_the_examples_and_their_causes(self, tmp_path: Path) -> None:
        """The check's failure names the class and count; its text the unit and the cause."""
        suite = read(write_junit([violated()], tmp_path / "j.xml"))[0]
        (result,) = cases(suite)["check: paid"].result
        assert isinstance(result, Failure)
        assert result.message == "counter check paid: duplicate_effect 3"
        assert "duplicate_effect: unit c-01 (events e1): expected 100, observed 200" in result.text
        assert "cause: e1 delivered twice by fault `dup`" in result.text
        (hypothesis,) = cases(suite)["hypothesis after: anomalies.total"].result
        assert hypothesis.message == "anomalies.total = 3 (expected ≤ 0)"

    def test_a_regression_under_the_gate_is_a_failure(self, tmp_path: Path) -> None:
        """With --fail-on-regression, the baseline case fails naming the measure; without,
        it passes (the comparison is information)."""
        before = stored("b1", ttr=1.0)
        now = stored("n1", ttr=9.0).report
        for gate, failed in ((True, True), (False, False)):
            comparison = compare(
                measures_of(now),
                now.status,
                Baseline(before, "last", "same."),
                Tolerance(),
                gate=gate,
            )
            report = now.model_copy(update={"baseline": comparison})
            suite = read(write_junit([report], tmp_path / f"{gate}.xml"))[0]
            results = cases(suite)["baseline"].result
            assert bool(results) is failed
            if failed:
                assert "time_to_recovery_s: 1 → 9 (allowed ≤ 2.1)" in results[0].text


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.name)
def test_the_verdict_case_is_counted_as_the_table_says(row: StatusRow, tmp_path: Path) -> None:
    """held passes, violated fails, aborted/error/inconclusive are errors: the row's `junit`."""
    report = violated().model_copy(update={"status": row.name})
    suite = read(write_junit([report], tmp_path / "j.xml"))[0]
    results = cases(suite)["verdict"].result
    kind = {"passed": type(None), "failure": Failure, "error": Error}[row.junit]
    assert type(results[0] if results else None) is kind
    if results:
        assert results[0].message.startswith(f"{row.badge} (exit {row.exit_code})")
