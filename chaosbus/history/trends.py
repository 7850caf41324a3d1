"""Trends per scenario x service, and the plain-language indicators a team can show. Pure.

    summaries (any order) ─► trends(): one Trend per (experiment, service label), runs oldest
    first ─► Trend.series(measure) for a plot; indicator(trend) for a sentence such as

        duplicate-storm on orders-api: held 9 runs in a row since 2026-11-20;
        time to recovery 14 s → 3 s

Only live runs and their verdicts count (a `check` judges another run's window again).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from chaosbus.history.entry import Measures, RunSummary

MEASURES: dict[str, Callable[[Measures], float | None]] = {
    "time_to_recovery_s": lambda m: m.time_to_recovery_s,
    "latency_ms.p99": lambda m: m.latency_p99_ms,
    "coverage.judged_share": lambda m: m.judged_share,
    "anomalies.total": lambda m: float(m.anomalies_total),
}


@dataclass(frozen=True)
class Trend:
    experiment: str
    service: str
    runs: tuple[RunSummary, ...]  # oldest first

    @property
    def title(self) -> str:
        return f"{self.experiment} on {self.service}" if self.service else self.experiment

    def series(self, measure: str) -> list[tuple[int, float | None]]:
        read = MEASURES[measure]
        return [(run.started_ms, read(run.measures)) for run in self.runs]

    def anomaly_classes(self) -> list[str]:
        return sorted({name for run in self.runs for name in run.measures.anomalies})

    def streak(self) -> tuple[str, int, RunSummary]:
        """The last status, how many runs in a row ended with it, and the first of them."""
        last = self.runs[-1]
        count, first = 0, last
        for run in reversed(self.runs):
            if run.status != last.status:
                break
            count, first = count + 1, run
        return last.status, count, first


def trends(summaries: Iterable[RunSummary]) -> list[Trend]:
    groups: dict[tuple[str, str], list[RunSummary]] = {}
    for summary in summaries:
        if summary.origin == "check":
            continue
        groups.setdefault((summary.experiment, summary.service), []).append(summary)
    return [
        Trend(name, service, tuple(sorted(runs, key=lambda r: (r.started_ms, r.id))))
        for (name, service), runs in sorted(groups.items())
    ]


def day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d")


def indicator(trend: Trend) -> str:
    status, count, first = trend.streak()
    in_a_row = (
        f"{status} {count} runs in a row since {day(first.started_ms)}"
        if count > 1
        else f"{status} in its last run ({day(first.started_ms)})"
    )
    parts = [f"{trend.title}: {in_a_row}"]
    if status != "held":
        held = [run for run in trend.runs if run.status == "held"]
        if held:
            parts.append(f"last held {day(held[-1].started_ms)}")
    parts += _changes(trend)
    return "; ".join(parts)


def _changes(trend: Trend) -> list[str]:
    said = []
    for measure, words, unit, scale in (
        ("time_to_recovery_s", "time to recovery", " s", 1.0),
        ("anomalies.total", "anomalies", "", 1.0),
        ("latency_ms.p99", "p99 latency", " ms", 1.0),
        ("coverage.judged_share", "judged share", " %", 100.0),
    ):
        known = [value for _, value in trend.series(measure) if value is not None]
        if len(known) >= 2 and known[0] != known[-1]:
            said.append(f"{words} {_n(known[0] * scale)}{unit} → {_n(known[-1] * scale)}{unit}")
    return said


def _n(value: float) -> str:
    return str(round(value)) if abs(value) >= 10 or float(value).is_integer() else f"{value:.2g}"


def last_runs(trend: Trend, count: int) -> Sequence[RunSummary]:
    return trend.runs[-count:]
