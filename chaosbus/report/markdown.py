"""The report as Markdown: what a person reads first, and pastes into a ticket."""

from __future__ import annotations

from chaosbus.monitors.report import LedgerDecision
from chaosbus.report.advice import preset_lines, remedy_lines
from chaosbus.report.comparison import comparison_markdown
from chaosbus.report.examples import examples_once
from chaosbus.report.model import RunReport
from chaosbus.report.service import service_lines

# Decisions listed under an example in Markdown; the HTML report's ledger table has all.
MAX_DECISIONS = 6
AFTER_THE_FACT = "not measured after the fact (a live run's reads time them)"


def number(value: float | None, unit: str = "") -> str:
    """A figure as a person reads it: `12`, `0.333`, `—` when unknown."""
    if value is None:
        return "—"
    text = str(int(value)) if float(value).is_integer() else f"{value:.3g}"
    return f"{text}{unit}"


def decision_line(d: LedgerDecision) -> str:
    """One ledger decision as a person reads it: which copy, which fault, how late, where."""
    fault = d.fault if d.fault_name is None else f"{d.fault} `{d.fault_name}`"
    if d.copy_number is None:
        return f"`{d.event_id}` at `{d.source}`: {fault}, not sent"
    late = f"planned {d.planned_delay_ms} ms"
    if d.actual_delay_ms is not None:
        late += f", actual {d.actual_delay_ms} ms"
    where = "" if d.offset is None else f" → partition {d.partition} offset {d.offset}"
    trace = "" if d.trace_id is None else f", trace `{d.trace_id}`"
    return f"`{d.event_id}` at `{d.source}`: {fault}, copy {d.copy_number}, {late}{where}{trace}"


def _held(value: bool | None) -> str:
    return {True: "yes", False: "**no**", None: "unknown"}[value]


def to_markdown(report: RunReport) -> str:
    row = report.status_row
    lines = [
        f"# {report.name} — {row.badge}",
        "",
        f"> {report.hypothesis}",
        "",
        f"**{row.badge}** (exit {row.exit_code}): {row.wording}.",
        "",
    ]
    if report.reason:
        lines += [f"**Why:** {report.reason}", ""]
    if report.baseline is not None:
        lines += comparison_markdown(report.baseline)
    lines += [
        "| run | seed | started (UTC) | duration | actor | routes |",
        "| --- | --- | --- | --- | --- | --- |",
        f"| `{report.run_id}` | {report.seed} | {report.started_at} | {report.duration_s:.1f} s "
        f"| {report.actor} | {', '.join(report.routes)} |",
        "",
        "## Hypotheses",
        "",
        "| when | name | expected | observed | held |",
        "| --- | --- | --- | --- | --- |",
    ]
    for h in report.hypotheses:
        lines.append(
            f"| {h.phase} | `{h.name}` | {h.threshold} | {number(h.observed)} | {_held(h.held)} |"
        )
    if not report.hypotheses:
        lines.append("| — | not judged (the run stopped before) | | | |")
    lines += ["", "## Anomalies", "", "| anomaly | count |", "| --- | --- |"]
    for name, count in report.anomalies.counts.items():
        lines.append(f"| {'**' + name + '**' if count else name} | {count} |")
    heading = None
    for names, ex in examples_once(report.anomalies.examples):
        if names[0] != heading:
            heading = names[0]
            lines += ["", f"Examples of `{heading}`:", ""]
        ids = ", ".join(f"`{i}`" for i in ex.event_ids) or "—"
        also = ", ".join(f"`{n}`" for n in names[1:])
        lines.append(
            f"- unit `{ex.unit}` (events {ids}): expected {ex.expected}, "
            f"observed {ex.observed} — {ex.detail}" + (f" (also {also})" if also else "")
        )
        if ex.cause is not None:
            lines.append(f"  - **cause:** {ex.cause.mechanism}")
            lines += [f"  - {decision_line(d)}" for d in ex.cause.decisions[:MAX_DECISIONS]]
    lines += _advice_lines(report)
    lines += ["", "## Faults injected", "", "| decision | count |", "| --- | --- |"]
    lines += [f"| {kind} | {count} |" for kind, count in report.faults.items()]
    lines += [
        f"| pass: suppressed by `{cap}` | {count} |"
        for cap, count in report.faults_suppressed.items()
        if count
    ]
    if report.redelivered:
        lines.append(
            f"| re-delivered after an interposer restart (at-least-once), not a fault "
            f"| {report.redelivered} |"
        )
    m = report.metrics
    lines += ["", "## Metrics", ""]
    if report.after_the_fact:
        lines.append(f"- end-to-end latency, time to recovery: {AFTER_THE_FACT}")
    else:
        lines.append(
            f"- end-to-end latency: p50 {number(m.latency_ms.p50, ' ms')}, "
            f"p99 {number(m.latency_ms.p99, ' ms')} over {m.latency_ms.count} events"
        )
    lines.append(f"- staleness: at most {number(m.staleness.max_versions_behind)} versions behind")
    if not report.after_the_fact:
        lines.append(f"- time to recovery: {number(m.time_to_recovery_s, ' s')}")
    lines += _http_lines(report)
    if report.traffic is not None:
        lines.append(f"- {report.traffic.describe()}")
    if report.service is not None:
        lines += ["", "## Service", ""]
        lines += [f"- {line}" for line in service_lines(report.service)]
    if report.guardrails:
        lines += ["", "## Guardrails", "", "| guardrail | bound | for | worst | breached |"]
        lines.append("| --- | --- | --- | --- | --- |")
        for g in report.guardrails:
            lines.append(
                f"| `{g.name}` | {g.threshold} | {g.for_s:g} s | {number(g.worst)} "
                f"| {'**yes**' if g.breached else 'no'} |"
            )
    lines += ["", "## Phases", "", "| phase | from | to |", "| --- | --- | --- |"]
    lines += [f"| {p.name} | {p.start_s:.1f} s | {p.end_s:.1f} s |" for p in report.phases]
    lines += ["", "## Coverage per check", ""]
    lines += [
        "| check | model | source events | judged events | judged share | unparsable "
        "| pending | unobserved | unledgered |"
    ]
    lines.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, check in report.checks.items():
        c = check.coverage
        share = "—" if c.judged_share is None else f"{c.judged_share:.1%}"
        failed = ", ".join(f"{k} {v}" for k, v in sorted(c.unparsable.items()) if v) or "0"
        lines.append(
            f"| {name} | {check.model} | {c.source_events} | {c.judged_events} | {share} "
            f"| {failed} | {c.pending} | {c.unobserved} | {c.unledgered} |"
        )
    notes = [
        f"- `{name}`: {note}" for name, ch in report.checks.items() for note in ch.coverage.notes()
    ]
    if notes:
        lines += ["", *notes]
    return "\n".join(lines) + "\n"


def _http_lines(report: RunReport) -> list[str]:
    """The HTTP side's routes, retry metrics and request log, when the run had one."""
    if not report.http_routes:
        return []
    retries = ", ".join(f"{k} {number(v)}" for k, v in sorted(report.metrics.retries.items()))
    lines = [f"- retries: {retries or 'no request logged'}"]
    lines += [f"- HTTP route {route}" for route in report.http_routes]
    if report.request_log:
        lines.append(f"- request log: `{report.request_log}` (`chaosbus retries` reads it)")
    return lines


def _advice_lines(report: RunReport) -> list[str]:
    """What to change per anomaly found, and the platform presets' time scale (issue 23)."""
    lines: list[str] = []
    for name, advice in remedy_lines(report):
        lines += ["", f"What to change for `{name}`:", ""] + [f"- {line}" for line in advice]
    presets = preset_lines(report)
    if presets:
        lines += ["", "Platform presets:", ""] + [f"- {line}" for line in presets]
    return lines
