"""The history as one self-contained HTML page, for people who would rather look than read.

    indicators       one plain sentence per scenario x service (`trends.indicator`)
    verdict matrix   scenario x service rows, the last runs as coloured cells (the table of
                     statuses' colours), newest on the right, each cell titled with its run
    trend plots      time to recovery, p99 latency, judged share, anomalies: one line per
                     scenario x service (plotly, inline: the page opens offline)
    runs             the runs the page was made from, newest first

Every text from the history goes through `html.escape`.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import UTC, datetime

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from chaosbus.history.entry import RunSummary
from chaosbus.history.tables import anomalies_text, when
from chaosbus.history.trends import Trend, indicator, trends
from chaosbus.report.comparison import shown
from chaosbus.report.status import STATUSES

MATRIX_RUNS = 20
PLOT_ID = "trends"
PLOTS = (
    ("time_to_recovery_s", "time to recovery (s)", 1.0),
    ("latency_ms.p99", "end-to-end latency p99 (ms)", 1.0),
    ("coverage.judged_share", "judged share (%)", 100.0),
    ("anomalies.total", "anomalies", 1.0),
)

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1150px;
       padding: 0 1rem; color: #1f2328; }
table { border-collapse: collapse; margin: .5rem 0 1.2rem; font-size: .9rem; }
th, td { border: 1px solid #d0d7de; padding: .25rem .5rem; text-align: left; }
th { background: #f6f8fa; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
td.cell { color: white; text-align: center; min-width: 1.4rem; font-weight: 600; }
ul.indicators li { margin: .3rem 0; }
"""


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


def to_page(summaries: Sequence[RunSummary], *, where: str, now_ms: int) -> str:
    found = trends(summaries)
    made = datetime.fromtimestamp(now_ms / 1000, tz=UTC).isoformat(timespec="seconds")
    plot = (
        _figure(found).to_html(full_html=False, include_plotlyjs=True, div_id=PLOT_ID)
        if found
        else "<p>No live run recorded yet.</p>"
    )
    indicators = "".join(f"<li>{_e(indicator(trend))}</li>" for trend in found)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>chaosbus history</title>
<style>{STYLE}</style></head>
<body>
<h1>chaosbus history</h1>
<p>{len(summaries)} runs from <code>{_e(where)}</code>, made {_e(made)}.</p>
<h2>Indicators</h2>
<ul id="indicators" class="indicators">{indicators}</ul>
<h2>Verdicts (last {MATRIX_RUNS} runs, newest on the right)</h2>
{_matrix(found)}
<h2>Trends</h2>
{plot}
<h2>Runs</h2>
{_runs(summaries)}
</body></html>
"""


def _matrix(found: Sequence[Trend]) -> str:
    legend = " ".join(
        f'<span class="status" style="background:{row.colour};color:white;padding:0 .4rem">'
        f"{_e(row.badge)}</span>"
        for row in STATUSES.values()
    )
    rows = []
    for trend in found:
        cells = "".join(
            f'<td class="cell" data-status="{_e(run.status)}" '
            f'style="background:{STATUSES[run.status].colour}" '
            f'title="{_e(run.id)} {_e(when(run.started_ms))} {_e(run.status)}">'
            f"{_e(STATUSES[run.status].badge[0])}</td>"
            for run in trend.runs[-MATRIX_RUNS:]
        )
        rows.append(
            f"<tr><th>{_e(trend.experiment)}</th><th>{_e(trend.service or '-')}</th>{cells}</tr>"
        )
    return (
        f'<p>{legend}</p><table id="matrix"><tr><th>scenario</th><th>service</th>'
        f'<th colspan="{MATRIX_RUNS}">runs</th></tr>{"".join(rows)}</table>'
    )


def _figure(found: Sequence[Trend]) -> go.Figure:
    fig = make_subplots(
        rows=len(PLOTS),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.07,
        subplot_titles=[title for _, title, _ in PLOTS],
    )
    for index, trend in enumerate(found):
        for row, (measure, _, scale) in enumerate(PLOTS, start=1):
            points = trend.series(measure)
            fig.add_trace(
                go.Scatter(
                    x=[datetime.fromtimestamp(ms / 1000, tz=UTC) for ms, _ in points],
                    y=[None if v is None else v * scale for _, v in points],
                    mode="lines+markers",
                    name=trend.title,
                    legendgroup=trend.title,
                    showlegend=row == 1,
                    line={"color": _colour(index)},
                ),
                row,
                1,
            )
    fig.update_layout(height=220 * len(PLOTS), margin={"t": 40, "b": 30})
    return fig


def _colour(index: int) -> str:
    palette = ("#0969da", "#bf3989", "#1a7f37", "#9a6700", "#8250df", "#cf222e", "#116329")
    return palette[index % len(palette)]


def _runs(summaries: Sequence[RunSummary]) -> str:
    rows = "".join(
        f"<tr><td><code>{_e(s.id)}</code></td><td>{_e(when(s.started_ms))}</td>"
        f"<td>{_e(s.experiment)}</td><td>{_e(s.service or '-')}</td>"
        f'<td><span style="color:{STATUSES[s.status].colour};font-weight:600">'
        f"{_e(STATUSES[s.status].badge)}</span></td>"
        f"<td>{_e(anomalies_text(s.measures))}</td>"
        f'<td class="n">{_e(shown(s.measures.time_to_recovery_s))}</td>'
        f'<td class="n">{_e(shown(s.measures.latency_p99_ms))}</td><td>{_e(s.origin)}</td></tr>'
        for s in summaries
    )
    return (
        '<table id="runs"><tr><th>id</th><th>started (UTC)</th><th>experiment</th>'
        "<th>service</th><th>status</th><th>anomalies</th><th>recovery s</th><th>p99 ms</th>"
        f"<th>origin</th></tr>{rows}</table>"
    )
