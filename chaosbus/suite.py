"""`chaosbus suite`: the experiments of a directory (or the shipped library) of one tier, in turn.

    discover(DIR_OR_LIBRARY, tier)   every file read and validated before anything starts
      │                              (a broken one refuses the suite: exit 2, nothing run)
      ▼
    for each experiment, sorted by name:
        baseline (--baseline) → run (progress on stderr) → conclude: report files in
        --out, one history entry (`suite` = this suite's id), the comparison
      └─ SIGINT/SIGTERM: the current run aborts as `run` does (injection stops, held
         messages released, its report says aborted) and no further experiment starts
      ▼
    one JUnit file (--junit: a test suite per experiment), a summary table, and the exit
    code of the worst run: aborted, error, inconclusive, violated (the order in which
    `runner.verdict.conclude` lets a status win), then a regression (5), then held (0)

A directory's experiments are its `*.yaml` and `*.yml` files, not recursively, leaving out
`*.traffic.yaml` (generator specs `init --from-recording` writes beside an experiment).
An experiment without `tier:` is `standard`.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from chaosbus.errors import EXIT_HELD, EXIT_REGRESSION, InvalidInput
from chaosbus.experiment import parse_experiment_text
from chaosbus.experiment.spec import ExperimentSpec
from chaosbus.history.program import Concluded, Program, Say, baseline_for, conclude
from chaosbus.history.recorder import FactsKept
from chaosbus.report.status import STATUSES
from chaosbus.runner.run import RunOptions, run_experiment
from chaosbus.scenarios import scenario, scenario_names

LIBRARY = "library"
# Worst first: the statuses in the order `conclude` lets them win, then a regression.
WORST_FIRST = ("aborted", "error", "inconclusive", "violated")


@dataclass(frozen=True)
class Member:
    """One experiment of a suite: where it came from, its exact text and its spec."""

    origin: str
    text: str
    spec: ExperimentSpec

    @property
    def tier(self) -> str:
        return self.spec.tier or "standard"


@dataclass
class SuiteResult:
    id: str
    done: list[tuple[Member, Concluded]] = field(default_factory=list)
    not_run: list[Member] = field(default_factory=list)
    interrupted: bool = False

    @property
    def exit_code(self) -> int:
        codes = [concluded.exit_code for _, concluded in self.done]
        for status in WORST_FIRST:
            if STATUSES[status].exit_code in codes:  # type: ignore[index]
                return STATUSES[status].exit_code  # type: ignore[index]
        if EXIT_REGRESSION in codes:
            return EXIT_REGRESSION
        if self.interrupted:
            return STATUSES["aborted"].exit_code
        return EXIT_HELD


def discover(where: str, tier: str | None) -> list[Member]:
    """The members of the suite at `where` (a directory, or `library`) of `tier` (any: None)."""
    if where == LIBRARY:
        found = [(f"scenario {name}", scenario(name).text) for name in scenario_names()]
    else:
        folder = Path(where)
        if not folder.is_dir():
            raise InvalidInput(f"{where}: not a directory (or `{LIBRARY}` for the shipped ones)")
        files = sorted(
            path
            for path in folder.iterdir()
            if path.suffix in (".yaml", ".yml") and not path.name.endswith(".traffic.yaml")
        )
        found = [(str(path), _read(path)) for path in files]
    members = [Member(origin, text, parse_experiment_text(text, origin)) for origin, text in found]
    chosen = [m for m in members if tier is None or m.tier == tier]
    if not chosen:
        which = f"of tier {tier} " if tier else ""
        raise InvalidInput(f"{where}: no experiment {which}to run ({len(members)} read)")
    return sorted(chosen, key=lambda m: (m.spec.name, m.origin))


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path}: cannot read ({exc})") from exc


def new_suite_id() -> str:
    return "s-" + uuid.uuid4().hex[:10]


async def run_suite(
    members: Sequence[Member],
    program: Program,
    options_for: Callable[[Member], RunOptions],
    *,
    interrupt: asyncio.Event,
    reports: Path | None,
    say: Say,
) -> SuiteResult:
    result = SuiteResult(new_suite_id())
    program = replace(program, suite=result.id, origin="suite", junit=None)
    for index, member in enumerate(members):
        if interrupt.is_set():
            result.interrupted = True
            result.not_run = list(members[index:])
            break
        name = member.spec.name
        say(f"suite {result.id}: {index + 1}/{len(members)} {name} ({member.tier})")
        chosen = baseline_for(program, name, member.text)
        options = options_for(member)
        options.on_facts = kept = FactsKept()
        report = await run_experiment(member.spec, options, interrupt)
        each = replace(program, report=None if reports is None else reports / f"{name}.json")
        concluded = conclude(
            each,
            report,
            kept.facts,
            text=member.text,
            baseline=chosen,
            tier=member.spec.tier,
            say=say,
        )
        result.done.append((member, concluded))
        say(f"{name}: {report.status_row.badge} (exit {concluded.exit_code})")
    if interrupt.is_set():
        result.interrupted = True
    return result
