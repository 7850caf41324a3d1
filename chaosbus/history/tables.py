"""`chaosbus history` on the console: the runs, one run, and the trends (rich tables)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from rich.table import Table
from rich.text import Text

from chaosbus.history.entry import Measures, RunSummary, StoredRun
from chaosbus.history.trends import Trend, indicator
from chaosbus.report.comparison import shown
from chaosbus.report.status import STATUSES

VERDICTS_SHOWN = 12


def when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M")


def badge(status: str) -> Text:
    row = STATUSES[status]  # type: ignore[index]
    return Text(row.badge, style=row.console_style)


def anomalies_text(measures: Measures) -> str:
    return ", ".join(f"{name} {n}" for name, n in measures.anomalies.items()) or "0"


def runs_table(summaries: Sequence[RunSummary], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("id", "started (UTC)", "experiment"):
        table.add_column(column, no_wrap=True)
    table.add_column("labels", overflow="fold")
    for column in ("status", "exit"):
        table.add_column(column)
    for column in ("anomalies", "recovery s", "p99 ms", "judged", "origin"):
        table.add_column(column, justify="right" if column != "anomalies" else "left")
    for s in summaries:
        m = s.measures
        table.add_row(
            s.id,
            when(s.started_ms),
            s.experiment,
            " ".join(f"{k}={v}" for k, v in sorted(s.labels.items())),
            badge(s.status),
            str(s.exit_code),
            anomalies_text(m),
            shown(m.time_to_recovery_s),
            shown(m.latency_p99_ms),
            "-" if m.judged_share is None else f"{m.judged_share:.1%}",
            s.origin,
        )
    return table


def detail_lines(run: StoredRun) -> list[str]:
    """The history's own facts about one run; its report follows (as Markdown)."""
    s = run.summary
    lines = [
        f"history id {s.id} ({s.origin}), run {s.run_id}, recorded {when(s.recorded_ms)} UTC "
        f"by chaosbus {s.chaosbus_version}",
        f"experiment {s.experiment}, text sha256 {s.experiment_sha256}, seed {s.seed}",
        "labels: " + (", ".join(f"{k}={v}" for k, v in sorted(s.labels.items())) or "none"),
    ]
    extra = [
        f"{name} {value}"
        for name, value in (("tier", s.tier), ("suite", s.suite), ("re-run of", s.rerun_of))
        if value
    ]
    return [*lines, *([", ".join(extra)] if extra else []), ""]


def trends_table(trends: Sequence[Trend]) -> Table:
    table = Table(title="trends per scenario x service", title_justify="left")
    for column in ("experiment", "service", "runs", "verdicts (oldest → newest)"):
        table.add_column(column)
    for column in ("recovery s", "p99 ms", "judged", "anomalies (last run)"):
        table.add_column(column)
    for trend in trends:
        verdicts = Text()
        for run in trend.runs[-VERDICTS_SHOWN:]:
            row = STATUSES[run.status]
            verdicts.append(row.badge[0], style=row.console_style)
        last = trend.runs[-1].measures
        table.add_row(
            trend.experiment,
            trend.service or "-",
            str(len(trend.runs)),
            verdicts,
            _first_to_last(trend, "time_to_recovery_s"),
            _first_to_last(trend, "latency_ms.p99"),
            "-" if last.judged_share is None else f"{last.judged_share:.1%}",
            anomalies_text(last),
        )
    return table


def _first_to_last(trend: Trend, measure: str) -> str:
    known = [value for _, value in trend.series(measure) if value is not None]
    if not known:
        return "-"
    if len(known) == 1 or known[0] == known[-1]:
        return shown(known[-1])
    return f"{shown(known[0])} → {shown(known[-1])}"


def indicator_lines(trends: Sequence[Trend]) -> list[str]:
    return [indicator(trend) for trend in trends]
