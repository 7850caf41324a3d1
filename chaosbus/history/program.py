"""One run as a step of a chaos program: compared with its baseline, written, recorded.

    Program (what the command's flags decided)
      │
      ├─ baseline_for(program, name, text)   before the run: a bad --baseline costs nothing
      │                                      (unknown id, another experiment: exit 2)
      │   … the run (or the check) …, its facts kept by `recorder.FactsKept`
      │
      └─ conclude(program, report, facts, …)
            the comparison into the report (`RunReport.baseline`), then the report files
            (--report), the JUnit file (--junit), GitHub's job summary, the history entry,
            and the exit code: the verdict's, or 5 under --fail-on-regression

`run`, `rerun`, `suite` and the demo all pass through here, so a run is recorded and gated
the same way whichever command made it. Lines for the user go to `say` (stderr).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from chaosbus.contracts.clock import wall_clock_ms
from chaosbus.errors import InvalidInput
from chaosbus.history.connect import open_history
from chaosbus.history.entry import Origin, Tier, measures_of, stored_run
from chaosbus.history.gate import DEFAULT_MATCH, Baseline, Tolerance, choose_baseline, compare
from chaosbus.history.gate import exit_code as gated_exit_code
from chaosbus.history.location import Location
from chaosbus.history.recorder import record
from chaosbus.report.comparison import shown
from chaosbus.report.junit import write_junit
from chaosbus.report.markdown import to_markdown
from chaosbus.report.model import RunReport
from chaosbus.report.write import write_report
from chaosbus.runner.facts import RunFacts

Say = Callable[[str], None]


@dataclass(frozen=True, kw_only=True)
class Program:
    history: Location | None  # None: --no-history
    labels: dict[str, str] = field(default_factory=dict)
    baseline: str | None = None  # last | best | a history id
    match: tuple[str, ...] = DEFAULT_MATCH
    tolerance: Tolerance = field(default_factory=Tolerance)
    fail_on_regression: bool = False
    report: Path | None = None
    junit: Path | None = None
    step_summary: Path | None = None
    origin: Origin = "run"
    suite: str | None = None


@dataclass(frozen=True)
class Concluded:
    report: RunReport
    exit_code: int
    recorded: bool


def baseline_for(program: Program, experiment: str, text: str) -> Baseline | None:
    """The baseline `--baseline` names, read before the run (a bad one refuses the run)."""
    if program.baseline is None:
        return None
    if program.history is None:
        raise InvalidInput("--baseline compares with the history: not with --no-history")
    with open_history(program.history) as store:
        return choose_baseline(
            store,
            program.baseline,
            experiment=experiment,
            experiment_text=text,
            labels=program.labels,
            match=program.match,
        )


def conclude(
    program: Program,
    report: RunReport,
    facts: RunFacts | None,
    *,
    text: str,
    baseline: Baseline | None,
    tier: Tier | None = None,
    rerun_of: str | None = None,
    say: Say,
) -> Concluded:
    if baseline is not None:
        comparison = compare(
            measures_of(report),
            report.status,
            baseline,
            program.tolerance,
            gate=program.fail_on_regression,
        )
        report = report.model_copy(update={"baseline": comparison})
        say(f"baseline: {comparison.headline()}")
        for row in comparison.regressions:
            note = f" ({row.note})" if row.note else ""
            say(
                f"  {row.measure}: {shown(row.baseline)} → {shown(row.current)}, allowed "
                f"{row.allowed}{note}"
            )
    elif program.baseline is not None:
        say(
            f"baseline: no earlier comparable run of {report.name} (same name and text, "
            "a verdict); nothing to compare"
        )
    _write(program, report, say)
    recorded = False
    if facts is not None and program.history is not None:
        entry = stored_run(
            report=report,
            facts=facts,
            experiment_text=text,
            origin=program.origin,
            recorded_ms=wall_clock_ms(),
            labels=program.labels,
            tier=tier,
            suite=program.suite,
            rerun_of=rerun_of,
        )
        recorded = record(program.history, entry, warn=say)
        if recorded:
            say(f"history: {entry.summary.id} in {program.history.describe()}")
    return Concluded(report, gated_exit_code(report.exit_code, report.baseline), recorded)


def _write(program: Program, report: RunReport, say: Say) -> None:
    if program.report is not None:
        for written in write_report(report, program.report):
            say(f"report: {written}")
    if program.junit is not None:
        say(f"junit: {write_junit([report], program.junit)}")
    if program.step_summary is not None:
        append_step_summary(program.step_summary, to_markdown(report), say)


def append_step_summary(path: Path, markdown: str, say: Say) -> None:
    """GitHub Actions shows this file on the job's page; a failure to write is one line."""
    try:
        with path.open("a", encoding="utf-8") as summary:
            summary.write(markdown + "\n")
    except OSError as exc:
        say(f"chaosbus: job summary {path} not written: {exc.strerror}")
