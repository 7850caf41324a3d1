"""Regression gates: which stored run a run is compared with, and what counts as worse.

Comparable (decided here, said in every comparison):

- `--baseline last|best` looks only at runs of the **same experiment name and the same
  text** (sha256 of the experiment's exact text: the same faults, seed, schedule and bounds),
  that share the values of the labels named by `--baseline-match` (default `service`), that
  were live runs (not a `check`, which has no time to recovery) and that reached a verdict
  (`held` or `violated`). `last` is the newest of them, `best` the one with the fewest
  anomalies, then the shortest time to recovery, then the highest judged share, then the
  newest. None found: nothing is compared, and the run says so.
- `--baseline RUN_ID` is the user's choice: any run of the **same experiment name** (another
  name is refused, exit 2); a different text is allowed and said.

Worse (each a row of the side-by-side table; `Tolerance` says by how much):

- an anomaly class the baseline did not have (`new anomaly class`);
- an anomaly count above the baseline's x (1 + relative);
- a time to recovery above the baseline's x (1 + relative) + `recovery_slack_s`, or none
  where the baseline recovered;
- a judged share below the baseline's minus `share_points`.

The total of anomalies, p99 latency and the status are shown beside them, not gated.
`--fail-on-regression` turns a regression of a run that held into `EXIT_REGRESSION` (5).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from chaosbus.errors import EXIT_HELD, EXIT_REGRESSION
from chaosbus.history.entry import Measures, RunSummary, StoredRun, sha256_of
from chaosbus.history.errors import NotComparable
from chaosbus.history.labels import describe
from chaosbus.history.store import Query, SqlHistory
from chaosbus.report.comparison import Comparison, ComparisonRow

CHOICES = ("last", "best")
JUDGED = ("held", "violated")
DEFAULT_MATCH = ("service",)
_CANDIDATES = 500  # the newest comparable runs `best` chooses among


@dataclass(frozen=True)
class Tolerance:
    relative: float = 0.10
    recovery_slack_s: float = 1.0  # the live monitor samples recovery a tick at a time
    share_points: float = 0.01

    def describe(self) -> str:
        return (
            f"counts and time to recovery may grow by {self.relative:.0%} "
            f"(time to recovery by {self.recovery_slack_s:g} s more), the judged share "
            f"may fall by {self.share_points * 100:g} points."
        )


@dataclass(frozen=True)
class Baseline:
    """The stored run chosen, and why it is comparable."""

    run: StoredRun
    chosen: str
    comparable: str


def choose_baseline(
    store: SqlHistory,
    choice: str,
    *,
    experiment: str,
    experiment_text: str,
    labels: dict[str, str],
    match: Sequence[str] = DEFAULT_MATCH,
) -> Baseline | None:
    """The baseline `choice` names for a run of `experiment` (see the module docstring)."""
    sha = sha256_of(experiment_text)
    if choice not in CHOICES:
        run = store.get(choice)
        other = run.summary.experiment
        if other != experiment:
            raise NotComparable(
                f"baseline {choice} is a run of {other!r}, not of {experiment!r}: "
                "a baseline must be a run of the same experiment"
            )
        same = run.summary.experiment_sha256 == sha
        text = "the same text" if same else f"another text (sha256 {_short(run)})"
        return Baseline(run, choice, f"chosen by id; same experiment name, {text}.")
    matched = {name: labels[name] for name in match if name in labels}
    summaries = store.summaries(
        Query(experiment=experiment, experiment_sha256=sha, labels=matched, limit=_CANDIDATES)
    )
    candidates = [s for s in summaries if s.origin != "check" and s.status in JUDGED]
    if not candidates:
        return None
    picked = candidates[0] if choice == "last" else min(candidates, key=_best_key)
    comparable = (
        f"same experiment name and text (sha256 {sha[:12]}), {describe(matched)}, "
        "live runs with a verdict."
    )
    return Baseline(store.get(picked.id), choice, comparable)


def _short(run: StoredRun) -> str:
    return run.summary.experiment_sha256[:12]


def _best_key(summary: RunSummary) -> tuple[float, float, float, float]:
    m = summary.measures
    ttr = math.inf if m.time_to_recovery_s is None else m.time_to_recovery_s
    share = -(m.judged_share if m.judged_share is not None else 0.0)
    return (m.anomalies_total, ttr, share, -summary.started_ms)


def compare(
    current: Measures,
    current_status: str,
    baseline: Baseline,
    tolerance: Tolerance,
    *,
    gate: bool = False,
) -> Comparison:
    before = baseline.run.summary
    rows = [ComparisonRow(measure="status", baseline=before.status, current=current_status)]
    rows += _anomaly_rows(before.measures, current, tolerance)
    rows.append(_recovery_row(before.measures, current, tolerance))
    rows.append(_share_row(before.measures, current, tolerance))
    rows.append(
        ComparisonRow(
            measure="latency_ms.p99",
            baseline=before.measures.latency_p99_ms,
            current=current.latency_p99_ms,
        )
    )
    return Comparison(
        baseline_id=before.id,
        baseline_started_at=datetime.fromtimestamp(before.started_ms / 1000, tz=UTC).isoformat(
            timespec="seconds"
        ),
        baseline_status=before.status,
        chosen=baseline.chosen,
        comparable=baseline.comparable,
        tolerance=tolerance.describe(),
        rows=rows,
        gate=gate,
    )


def _anomaly_rows(before: Measures, current: Measures, tolerance: Tolerance) -> list[ComparisonRow]:
    rows = [
        ComparisonRow(
            measure="anomalies.total",
            baseline=float(before.anomalies_total),
            current=float(current.anomalies_total),
        )
    ]
    for name in sorted(set(before.anomalies) | set(current.anomalies)):
        was, now = before.anomalies.get(name, 0), current.anomalies.get(name, 0)
        if was == 0:
            rows.append(
                ComparisonRow(
                    measure=f"anomalies.{name}",
                    baseline=0.0,
                    current=float(now),
                    allowed="≤ 0",
                    regression=now > 0,
                    note="new anomaly class" if now > 0 else "",
                )
            )
            continue
        allowed = math.floor(was * (1 + tolerance.relative))
        rows.append(
            ComparisonRow(
                measure=f"anomalies.{name}",
                baseline=float(was),
                current=float(now),
                allowed=f"≤ {allowed}",
                regression=now > allowed,
            )
        )
    return rows


def _recovery_row(before: Measures, current: Measures, tolerance: Tolerance) -> ComparisonRow:
    was, now = before.time_to_recovery_s, current.time_to_recovery_s
    if was is None:
        return ComparisonRow(measure="time_to_recovery_s", baseline=None, current=now)
    allowed = round(was * (1 + tolerance.relative) + tolerance.recovery_slack_s, 3)
    if now is None:
        return ComparisonRow(
            measure="time_to_recovery_s",
            baseline=was,
            current=None,
            allowed=f"≤ {allowed:g}",
            regression=True,
            note="did not recover",
        )
    return ComparisonRow(
        measure="time_to_recovery_s",
        baseline=was,
        current=now,
        allowed=f"≤ {allowed:g}",
        regression=now > allowed,
    )


def _share_row(before: Measures, current: Measures, tolerance: Tolerance) -> ComparisonRow:
    was, now = before.judged_share, current.judged_share
    if was is None:
        return ComparisonRow(measure="coverage.judged_share", baseline=None, current=now)
    allowed = round(was - tolerance.share_points, 4)
    fell = now is None or now < allowed
    return ComparisonRow(
        measure="coverage.judged_share",
        baseline=was,
        current=now,
        allowed=f"≥ {allowed:g}",
        regression=fell,
        note="nothing judged" if now is None else "",
    )


def exit_code(verdict_code: int, comparison: Comparison | None) -> int:
    """The verdict's code; a run that held but regressed, under the gate: `EXIT_REGRESSION`."""
    if verdict_code != EXIT_HELD or comparison is None:
        return verdict_code
    return EXIT_REGRESSION if comparison.gate and comparison.regressed else verdict_code
