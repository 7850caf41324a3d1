"""The report as Markdown: what a person reads first, and pastes into a ticket."""

from __future__ import annotations

from chaosbus.report.model import RunReport

BADGES = {"held": "HELD", "violated": "VIOLATED", "aborted": "ABORTED", "error": "ERROR"}


def _num(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    text = str(int(value)) if float(value).is_integer() else f"{value:.3g}"
    return f"{text}{unit}"


def _held(value: bool | None) -> str:
    return {True: "yes", False: "**no**", None: "unknown"}[value]


def to_markdown(report: RunReport) -> str:
    lines = [
        f"# {report.name} — {BADGES[report.status]}",
        "",
        f"> {report.hypothesis}",
        "",
    ]
    if report.reason:
        lines += [f"**Why:** {report.reason}", ""]
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
            f"| {h.phase} | `{h.name}` | {h.threshold} | {_num(h.observed)} | {_held(h.held)} |"
        )
    if not report.hypotheses:
        lines.append("| — | not judged (the run stopped before) | | | |")
    lines += ["", "## Anomalies", "", "| anomaly | count |", "| --- | --- |"]
    for name, count in report.anomalies.counts.items():
        lines.append(f"| {'**' + name + '**' if count else name} | {count} |")
    for name, examples in report.anomalies.examples.items():
        lines += ["", f"Examples of `{name}`:", ""]
        for ex in examples:
            ids = ", ".join(f"`{i}`" for i in ex.event_ids) or "—"
            lines.append(
                f"- unit `{ex.unit}` (events {ids}): expected {ex.expected}, "
                f"observed {ex.observed} — {ex.detail}"
            )
    lines += ["", "## Faults injected", "", "| decision | count |", "| --- | --- |"]
    lines += [f"| {kind} | {count} |" for kind, count in report.faults.items()]
    lines += [
        f"| pass: suppressed by `{cap}` | {count} |"
        for cap, count in report.faults_suppressed.items()
        if count
    ]
    m = report.metrics
    lines += [
        "",
        "## Metrics",
        "",
        f"- end-to-end latency: p50 {_num(m.latency_ms.p50, ' ms')}, "
        f"p99 {_num(m.latency_ms.p99, ' ms')} over {m.latency_ms.count} events",
        f"- staleness: at most {_num(m.staleness.max_versions_behind)} versions behind",
        f"- time to recovery: {_num(m.time_to_recovery_s, ' s')}",
    ]
    lines += _http_lines(report)
    if report.guardrails:
        lines += ["", "## Guardrails", "", "| guardrail | bound | for | worst | breached |"]
        lines.append("| --- | --- | --- | --- | --- |")
        for g in report.guardrails:
            lines.append(
                f"| `{g.name}` | {g.threshold} | {g.for_s:g} s | {_num(g.worst)} "
                f"| {'**yes**' if g.breached else 'no'} |"
            )
    lines += ["", "## Phases", "", "| phase | from | to |", "| --- | --- | --- |"]
    lines += [f"| {p.name} | {p.start_s:.1f} s | {p.end_s:.1f} s |" for p in report.phases]
    lines += ["", "## Coverage per check", ""]
    lines += ["| check | model | events | judged | pending | unobserved | unledgered |"]
    lines.append("| --- | --- | --- | --- | --- | --- | --- |")
    for name, check in report.checks.items():
        c = check.coverage
        lines.append(
            f"| {name} | {check.model} | {c.events} | {c.judged} | {c.pending} "
            f"| {c.unobserved} | {c.unledgered} |"
        )
    return "\n".join(lines) + "\n"


def _http_lines(report: RunReport) -> list[str]:
    """The HTTP side's routes, retry metrics and request log, when the run had one."""
    if not report.http_routes:
        return []
    retries = ", ".join(f"{k} {_num(v)}" for k, v in sorted(report.metrics.retries.items()))
    lines = [f"- retries: {retries or 'no request logged'}"]
    lines += [f"- HTTP route {route}" for route in report.http_routes]
    if report.request_log:
        lines.append(f"- request log: `{report.request_log}` (`chaosbus retries` reads it)")
    return lines
