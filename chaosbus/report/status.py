"""The table of statuses: one row per verdict, read by every renderer and by the exit code.

A status is a name in the report's JSON (`status`), a process exit code, a style on the
console, a colour in the HTML page, a badge and one sentence of wording in each rendering,
and the outcome of the verdict's test case in a JUnit file.
All of them come from `STATUSES`: the console's verdict table, the Markdown and HTML
reports, the JUnit file, `RunReport.exit_code` (hence `run` and `check`), the demo's
summary. A renderer
never keeps a dict of its own, so a status added here reaches every one of them, and
`tests/unit/test_report_statuses.py` renders every row through every renderer.

| status | exit | JUnit | meaning |
| --- | --- | --- | --- |
| held | 0 | passed | every bound held after recovery |
| violated | 1 | failure | a bound did not hold |
| error | 2 | error | nothing could be judged |
| aborted | 3 | error | a guardrail, the kill switch or a signal stopped the run |
| inconclusive | 4 | error | too little of the source was judged to conclude |

The order of conclusion (which status wins when several apply) is not here: it is
`chaosbus.runner.verdict.conclude`'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from chaosbus.errors import (
    EXIT_ABORTED,
    EXIT_HELD,
    EXIT_INCONCLUSIVE,
    EXIT_INVALID,
    EXIT_VIOLATED,
)

Status = Literal["held", "violated", "aborted", "error", "inconclusive"]
# How a JUnit consumer counts the run's verdict test case: a pass, an assertion that failed,
# or a test that could not be carried out (nothing or too little judged, stopped early).
JunitOutcome = Literal["passed", "failure", "error"]


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusRow:
    """One status as every renderer shows it."""

    name: Status
    exit_code: int
    console_style: str  # a rich style, for the console's verdict title
    colour: str  # the HTML badge's background (white text on it)
    wording: str  # what the status means, in a few words (the report's reason says why)
    junit: JunitOutcome  # the verdict's test case in a JUnit file (`report.junit`)

    @property
    def badge(self) -> str:
        """The status as a title shows it: `HELD`."""
        return self.name.upper()


_ROWS = (
    StatusRow(
        name="held",
        junit="passed",
        exit_code=EXIT_HELD,
        console_style="bold green",
        colour="#1a7f37",
        wording="the hypothesis held",
    ),
    StatusRow(
        name="violated",
        junit="failure",
        exit_code=EXIT_VIOLATED,
        console_style="bold red",
        colour="#cf222e",
        wording="the hypothesis was violated",
    ),
    StatusRow(
        name="aborted",
        junit="error",
        exit_code=EXIT_ABORTED,
        console_style="bold yellow",
        colour="#9a6700",
        wording="the run was stopped before its verdict",
    ),
    StatusRow(
        name="inconclusive",
        junit="error",
        exit_code=EXIT_INCONCLUSIVE,
        console_style="bold magenta",
        colour="#6639ba",
        wording="too little of the source was judged to conclude",
    ),
    StatusRow(
        name="error",
        junit="error",
        exit_code=EXIT_INVALID,
        console_style="bold",
        colour="#555555",
        wording="nothing could be judged",
    ),
)

STATUSES: Mapping[Status, StatusRow] = MappingProxyType({row.name: row for row in _ROWS})
