"""The report as one self-contained HTML page: the verdict, its evidence, and the timeline.

Everything the Markdown says is here as HTML: the summary, hypotheses, anomalies with the
cause of each example, faults, metrics, guardrails, phases and coverage, as tables. Each
example links to its point on the timeline (a numbered marker on the anomalies panel and
an anchor `#point-N` beside the plot) and to the ledger records it rests on (rows
`#ledger-M` of the ledger table at the end).

plotly.js is embedded inline (`include_plotlyjs=True`): the file opens offline and can be
attached to a ticket as it is. Every text from the report goes through `html.escape`.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from chaosbus.monitors.report import AnomalyExample, LedgerDecision
from chaosbus.report.advice import preset_lines, remedy_lines
from chaosbus.report.comparison import comparison_html
from chaosbus.report.examples import examples_once
from chaosbus.report.markdown import number
from chaosbus.report.model import RunReport
from chaosbus.report.service import service_lines

PHASE_COLOURS = {
    "preflight": "rgba(150,150,150,0.10)",
    "warmup": "rgba(80,160,255,0.12)",
    "inject": "rgba(255,80,80,0.16)",
    "recover": "rgba(80,200,120,0.14)",
    "settle": "rgba(200,200,80,0.14)",
    "abort": "rgba(120,0,0,0.22)",
}
MIN_LABELLED_SHARE = 0.04
PLOT_ID = "timeline"

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1150px;
       padding: 0 1rem; color: #1f2328; }
.status { color: white; padding: .2rem .6rem; border-radius: .3rem; }
table { border-collapse: collapse; margin: .5rem 0 1.2rem; font-size: .9rem; }
th, td { border: 1px solid #d0d7de; padding: .25rem .5rem; text-align: left;
         vertical-align: top; }
th { background: #f6f8fa; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.bad td { background: #ffebe9; }
tr:target td { background: #fff8c5; }
li:target { background: #fff8c5; }
code { font-size: .85em; }
.cause { font-weight: 600; }
"""


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


@dataclass(frozen=True, slots=True)
class _Example:
    """An example numbered for the page: its anchor, its time and its ledger rows."""

    number: int
    name: str
    example: AnomalyExample
    t_s: float | None
    ledger_rows: tuple[int, ...]


def _examples(report: RunReport) -> tuple[list[_Example], list[LedgerDecision]]:
    examples: list[_Example] = []
    ledger: list[LedgerDecision] = []
    seen: dict[LedgerDecision, int] = {}
    for names, example in examples_once(report.anomalies.examples):
        rows = []
        cause = example.cause
        for decision in cause.decisions if cause else ():
            if decision not in seen:
                ledger.append(decision)
                seen[decision] = len(ledger)
            rows.append(seen[decision])
        t_s = None
        if cause and cause.at_ms is not None and report.started_ms is not None:
            t_s = round((cause.at_ms - report.started_ms) / 1000, 3)
        name = ", ".join(names)  # every class the example belongs to, its own kind first
        examples.append(_Example(len(examples) + 1, name, example, t_s, tuple(rows)))
    return examples, ledger


def timeline_figure(report: RunReport, examples: Sequence[_Example] = ()) -> go.Figure:
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
    placed = [ex for ex in examples if ex.t_s is not None]
    if placed:
        fig.add_trace(
            go.Scatter(
                x=[ex.t_s for ex in placed],
                y=[0] * len(placed),
                mode="markers+text",
                text=[str(ex.number) for ex in placed],
                textposition="top center",
                marker={"symbol": "x", "size": 10, "color": "#cf222e"},
                hovertext=[f"{ex.number}. {ex.name} {ex.example.unit}" for ex in placed],
                name="examples (numbered)",
            ),
            2,
            1,
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


def _table(head: Sequence[str], rows: Iterable[Sequence[str]], **attrs: str) -> str:
    """A table of already rendered cells; no header row when `head` is empty."""
    extra = "".join(f' {k}="{_e(v)}"' for k, v in attrs.items())
    out = [f"<table{extra}>"]
    if head:
        out += ["<thead><tr>", *(f"<th>{_e(h)}</th>" for h in head), "</tr></thead>"]
    out.append("<tbody>")
    for row in rows:
        out.append("<tr>" + "".join(row) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _td(value: object, *, numeric: bool = False, raw: bool = False) -> str:
    text = str(value) if raw else _e(value)
    return f'<td class="n">{text}</td>' if numeric else f"<td>{text}</td>"


def _summary(report: RunReport) -> str:
    rows = [
        ("run", f"<code>{_e(report.run_id)}</code>"),
        ("seed", _e(report.seed)),
        ("started (UTC)", _e(report.started_at)),
        ("duration", _e(f"{report.duration_s:.1f} s")),
        ("actor", _e(report.actor)),
        ("routes", _e(", ".join(report.routes))),
    ]
    return _table((), ([f"<th>{_e(k)}</th>", f"<td>{v}</td>"] for k, v in rows), id="summary")


def _hypotheses(report: RunReport) -> str:
    rows = []
    for h in report.hypotheses:
        held = {True: "yes", False: "no", None: "unknown"}[h.held]
        cells = [_td(h.phase), _td(h.name), _td(h.threshold), _td(number(h.observed), numeric=True)]
        rows.append([*cells, _td(held)])
    if not rows:
        rows.append(
            [_td("—"), _td("not judged (the run stopped before)"), _td(""), _td(""), _td("")]
        )
    return _table(["when", "name", "expected", "observed", "held"], rows, id="hypotheses")


def _anomalies(report: RunReport, examples: Sequence[_Example]) -> str:
    counts = _table(
        ["anomaly", "count"],
        ([_td(name), _td(count, numeric=True)] for name, count in report.anomalies.counts.items()),
        id="anomaly-counts",
    )
    if not examples:
        return counts + "<p>No example: no unit was judged bad.</p>"
    rows = []
    for ex in examples:
        e = ex.example
        cause = e.cause
        mechanism = (
            f'<span class="cause">{_e(cause.mechanism)}</span>' if cause else "no ledger record"
        )
        point = (
            f'<a href="#point-{ex.number}">{_e(number(ex.t_s))} s</a>'
            if ex.t_s is not None
            else "—"
        )
        ledger = ", ".join(f'<a href="#ledger-{n}">L{n}</a>' for n in ex.ledger_rows) or "—"
        rows.append(
            [
                f'<td id="example-{ex.number}">{ex.number}</td>',
                _td(ex.name),
                _td(f"<code>{_e(e.unit)}</code>", raw=True),
                _td(", ".join(e.event_ids)),
                _td(e.expected),
                _td(e.observed),
                _td(f"{mechanism}<br><small>{_e(e.detail)}</small>", raw=True),
                _td(point, raw=True),
                _td(ledger, raw=True),
            ]
        )
    head = ["#", "anomaly", "unit", "events", "expected", "observed", "cause", "when", "ledger"]
    return counts + _table(head, rows, id="examples")


def _points(examples: Sequence[_Example]) -> str:
    items = [
        f'<li id="point-{ex.number}" value="{ex.number}">{_e(number(ex.t_s))} s: '
        f'<a href="#example-{ex.number}">{_e(ex.name)} {_e(ex.example.unit)}</a></li>'
        for ex in examples
        if ex.t_s is not None
    ]
    if not items:
        return ""
    return (
        '<p>Numbered markers on the anomalies panel:</p><ol id="points">' + "".join(items) + "</ol>"
    )


def _ledger(decisions: Sequence[LedgerDecision]) -> str:
    if not decisions:
        return "<p>No ledger record is involved in an example.</p>"
    rows = []
    for n, d in enumerate(decisions, start=1):
        where = "—" if d.offset is None else f"{d.partition} / {d.offset}"
        rows.append(
            [
                f'<td id="ledger-{n}">L{n}</td>',
                _td(d.event_id),
                _td(number(d.version)),
                _td(d.source),
                _td(d.fault),
                _td(d.fault_name or "—"),
                _td("—" if d.copy_number is None else d.copy_number, numeric=True),
                _td(number(d.planned_delay_ms), numeric=True),
                _td(number(d.actual_delay_ms), numeric=True),
                _td(where),
                _td(number(d.decided_at_ms), numeric=True),
                _td(number(d.sent_at_ms), numeric=True),
                _td(d.trace_id or "—"),
            ]
        )
    head = [
        "",
        "event",
        "version",
        "source",
        "fault",
        "fault name",
        "copy",
        "planned ms",
        "actual ms",
        "partition / offset",
        "decided at ms",
        "sent at ms",
        "trace id",
    ]
    return _table(head, rows, id="ledger")


def _faults_and_metrics(report: RunReport) -> str:
    faults = _table(
        ["decision", "count"],
        ([_td(kind), _td(count, numeric=True)] for kind, count in report.faults.items()),
        id="faults",
    )
    m = report.metrics
    rows = [
        ("latency p50", number(m.latency_ms.p50, " ms")),
        ("latency p99", number(m.latency_ms.p99, " ms")),
        ("latency samples", number(m.latency_ms.count)),
        ("staleness, max versions behind", number(m.staleness.max_versions_behind)),
        ("time to recovery", number(m.time_to_recovery_s, " s")),
    ]
    metrics = _table(
        ["metric", "value"], ([_td(k), _td(v, numeric=True)] for k, v in rows), id="metrics"
    )
    return f"<h2>Faults injected</h2>{faults}<h2>Metrics</h2>{metrics}"


def _rest(report: RunReport) -> str:
    parts = []
    if report.service is not None:
        items = "".join(f"<li>{_e(line)}</li>" for line in service_lines(report.service))
        parts.append(f'<h2>Service</h2><ul id="service">{items}</ul>')
    if report.guardrails:
        rows = [
            [
                _td(g.name),
                _td(g.threshold),
                _td(f"{g.for_s:g} s"),
                _td(number(g.worst), numeric=True),
                _td("yes" if g.breached else "no"),
            ]
            for g in report.guardrails
        ]
        head = ["guardrail", "bound", "for", "worst", "breached"]
        parts.append("<h2>Guardrails</h2>" + _table(head, rows, id="guardrails"))
    phases = [
        [
            _td(p.name),
            _td(f"{p.start_s:.1f} s", numeric=True),
            _td(f"{p.end_s:.1f} s", numeric=True),
        ]
        for p in report.phases
    ]
    parts.append("<h2>Phases</h2>" + _table(["phase", "from", "to"], phases, id="phases"))
    coverage = []
    for name, check in report.checks.items():
        c = check.coverage
        share = "—" if c.judged_share is None else f"{c.judged_share:.1%}"
        unparsable = ", ".join(f"{k} {v}" for k, v in sorted(c.unparsable.items()) if v) or "0"
        coverage.append(
            [
                _td(name),
                _td(check.model),
                _td(c.source_events, numeric=True),
                _td(c.judged_events, numeric=True),
                _td(share, numeric=True),
                _td(unparsable),
                _td(c.pending, numeric=True),
                _td(c.unobserved, numeric=True),
                _td(c.unledgered, numeric=True),
            ]
        )
    head = [
        "check",
        "model",
        "source events",
        "judged events",
        "judged share",
        "unparsable",
        "pending",
        "unobserved",
        "unledgered",
    ]
    parts.append("<h2>Coverage per check</h2>" + _table(head, coverage, id="coverage"))
    notes = [
        f"<li><code>{_e(name)}</code>: {_e(note)}</li>"
        for name, check in report.checks.items()
        for note in check.coverage.notes()
    ]
    if notes:
        parts.append(f'<ul id="coverage-notes">{"".join(notes)}</ul>')
    return "".join(parts)


def to_html(report: RunReport) -> str:
    examples, decisions = _examples(report)
    plot = timeline_figure(report, examples).to_html(
        full_html=False, include_plotlyjs=True, div_id=PLOT_ID
    )
    row = report.status_row
    title = _e(f"{report.name} — {row.badge}")
    reason = (
        f'<p id="reason"><strong>Why:</strong> {_e(report.reason)}</p>' if report.reason else ""
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>{STYLE}</style></head>
<body>
<h1>{_e(report.name)}
<span id="verdict" class="status" data-status="{_e(report.status)}"
 data-exit-code="{row.exit_code}" style="background: {row.colour}">{_e(row.badge)}</span></h1>
<p><em>{_e(report.hypothesis)}</em></p>
<p id="wording"><strong>{_e(row.badge)}</strong> (exit {row.exit_code}): {_e(row.wording)}.</p>
{reason}
{comparison_html(report.baseline) if report.baseline is not None else ""}
{_summary(report)}
<h2>Hypotheses</h2>
{_hypotheses(report)}
<h2>Anomalies</h2>
{_anomalies(report, examples)}
{_advice(report)}
<h2>Timeline</h2>
{plot}
{_points(examples)}
{_faults_and_metrics(report)}
{_rest(report)}
<h2>Ledger records of the examples</h2>
{_ledger(decisions)}
</body></html>
"""


def _advice(report: RunReport) -> str:
    """What to change per anomaly found, and the presets' time scale (issue 23)."""
    parts = [
        f'<h3 id="remedy-{_e(name)}">What to change for {_e(name)}</h3><ul>'
        + "".join(f"<li>{_e(line)}</li>" for line in lines)
        + "</ul>"
        for name, lines in remedy_lines(report)
    ]
    presets = preset_lines(report)
    if presets:
        items = "".join(f"<li>{_e(line)}</li>" for line in presets)
        parts.append(f'<h3>Platform presets</h3><ul id="presets">{items}</ul>')
    return "".join(parts)
