"""docs/dependency-failures.md shows the table the dependency-failure tests assert."""

from __future__ import annotations

import re
from pathlib import Path

from chaosbus.report.status import STATUSES
from tests.dependency_cases import CASES, render

PAGE = Path(__file__).resolve().parents[2] / "docs" / "dependency-failures.md"


class TestDependencyTable:
    def test_the_page_holds_the_tests_table(self) -> None:
        """The table between the page's markers is the one the tests assert, verbatim."""
        text = PAGE.read_text(encoding="utf-8")
        found = re.search(r"<!-- cases: begin -->\n(.*)\n<!-- cases: end -->", text, re.S)
        assert found is not None, "the page has lost its table markers"
        assert found.group(1) == render(), "regenerate with: python -m tests.dependency_cases"

    def test_no_row_is_a_held_for_what_was_not_read(self) -> None:
        """Every row names a documented status; a `held` row has no reason, and a row whose
        reason says something could not be read is never `held`."""
        for case in CASES.values():
            assert case.status in STATUSES
            if case.status == "held":
                assert case.reason == "", case.key
            if "could not be read" in case.reason or "failed" in case.reason:
                assert case.status in ("inconclusive", "error", "aborted"), case.key

    def test_a_reason_pattern_matches_what_varies(self) -> None:
        """`…` in a row's reason matches any text; the rest is taken literally."""
        case = CASES["redis-stopped"]
        assert re.fullmatch(case.pattern(), "control plane unreachable: Redis at x (y)")
        assert not re.fullmatch(case.pattern(), "control plane: Redis at x")
