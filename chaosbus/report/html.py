"""The report as one self-contained HTML file: the summary and a plotly timeline.

plotly.js is embedded inline (`include_plotlyjs=True`), so the file opens offline and can
be attached to a ticket as it is. Phases are shaded on every panel.
"""

from __future__ import annotations

import html

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from chaosbus.report.markdown import BADGES
from chaosbus.report.model import RunReport

PHASE_COLOURS = {
    "preflight": "rgba(150,150,150,0.10)",
    "warmup": "rgba(80,160,255,0.12)",
    "inject": "rgba(255,80,80,0.16)",
    "recover": "rgba(80,200,120,0.14)",
    "settle": "rgba(200,200,80,0.14)",
    "abort": "rgba(120,0,0,0.22)",
}
STATUS_COLOURS = {
    "held": "#1a7f37",
    "violated": "#cf222e",
    "aborted": "#9a6700",
    "error": "#555",
    "inconclusive": "#6639ba",
}
MIN_LABELLED_SHARE = 0.04


def timeline_figure(report: RunReport) -> go.Figure:
    fig = make_subplots(
        rows=3,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.06,
        subplot_titles=("faults injected per second", "anomalies", "end-to-end latency p99 (ms)"),
    )
    t = [p.t_s for p in report.timeline]
    fig.add_trace(go.Bar(x=t, y=[p.faults_per_s for p in report.timeline], name="faults/s"), 1, 1)
    fig.add_trace(
        go.Scatter(x=t, y=[p.forwarded_per_s for p in report.timeline], name="messages/s"), 1, 1
    )
    fig.add_trace(
        go.Bar(x=t, y=[p.anomalies_per_s for p in report.timeline], name="new anomalies/s"), 2, 1
    )
    fig.add_trace(
        go.Scatter(x=t, y=[p.anomalies for p in report.timeline], name="bad units (live)"), 2, 1
    )
    fig.add_trace(
        go.Scatter(
            x=t,
            y=[p.latency_p99_ms for p in report.timeline],
            name="latency p99",
            connectgaps=False,
        ),
        3,
        1,
    )
    run_s = max((span.end_s for span in report.phases), default=0.0)
    for span in report.phases:
        if span.end_s <= span.start_s:
            continue
        # A phase too short to see (preflight takes milliseconds) is shaded but not named,
        # or its label would print over the next phase's.
        labelled = span.end_s - span.start_s >= run_s * MIN_LABELLED_SHARE
        fig.add_vrect(
            x0=span.start_s,
            x1=span.end_s,
            fillcolor=PHASE_COLOURS.get(span.name, "rgba(0,0,0,0.05)"),
            line_width=0,
            annotation_text=span.name if labelled else "",
            annotation_position="top left",
            row="all",
            col=1,
        )
    fig.update_xaxes(title_text="seconds since the run started", row=3, col=1)
    fig.update_layout(height=720, bargap=0.1, legend={"orientation": "h", "y": -0.12})
    return fig


def to_html(report: RunReport, markdown: str) -> str:
    plot = timeline_figure(report).to_html(full_html=False, include_plotlyjs=True)
    colour = STATUS_COLOURS[report.status]
    title = html.escape(f"{report.name} — {BADGES[report.status]}")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; }}
.status {{ color: white; background: {colour}; padding: .2rem .6rem; border-radius: .3rem; }}
pre {{ background: #f6f8fa; padding: 1rem; overflow-x: auto; white-space: pre-wrap; }}
</style></head>
<body>
<h1>{html.escape(report.name)} <span class="status">{BADGES[report.status]}</span></h1>
<p><em>{html.escape(report.hypothesis)}</em></p>
<p>{html.escape(report.reason or "")}</p>
{plot}
<h2>Report</h2>
<pre>{html.escape(markdown)}</pre>
</body></html>
"""
