"""Assemble the run report from what an `ExperimentRun` and its session gathered."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from chaosbus.report.model import GuardrailResult, HypothesisResult, RunReport, Status
from chaosbus.runner.observe import Observed
from chaosbus.runner.verdict import judge, merge_anomalies, merge_metrics, status_of
from monitors.report import MonitorReport

if TYPE_CHECKING:
    from chaosbus.runner.run import ExperimentRun
    from chaosbus.runner.session import LiveSession


def build_report(
    run: ExperimentRun,
    session: LiveSession,
    reports: Mapping[str, MonitorReport],
    observed: Observed,
    before: list[HypothesisResult],
    ttr: float | None,
) -> RunReport:
    spec = run.spec
    after: list[HypothesisResult] = []
    status: Status
    reason: str | None
    if run.abort_reason is not None:
        status, reason = "aborted", run.abort_reason
    else:
        after = judge(spec.steady_state, observed, "after")
        status, reason = status_of(after, reports)
    ended = run.timeline.phases[-1][2] if run.timeline.phases else run.started_ms
    breached = {run.abort_reason} if run.abort_reason else set()
    guardrails = [
        GuardrailResult(
            name=g.label,
            metric=g.metric,
            check=g.check,
            threshold=g.threshold,
            for_s=g.for_s,
            worst=run.guardrails.worst.get(index),
            breached=any(r.startswith(f"guardrail {g.label} ") for r in breached),
        )
        for index, g in enumerate(spec.guardrails)
    ]
    return RunReport(
        name=spec.name,
        hypothesis=spec.hypothesis,
        status=status,
        reason=reason,
        run_id=run.run_id,
        seed=spec.seed,
        actor=run.options.actor,
        started_at=datetime.fromtimestamp(run.started_ms / 1000, tz=UTC).isoformat(
            timespec="seconds"
        ),
        duration_s=round(((ended or run.started_ms) - run.started_ms) / 1000, 3),
        routes=[f"{r.source} -> {r.destination}" for r in spec.routes],
        hypotheses=[*before, *after],
        anomalies=merge_anomalies(reports, spec.monitor.max_examples),
        faults=session.report_fault_counts(),
        metrics=merge_metrics(reports, ttr),
        guardrails=guardrails,
        checks=dict(reports),
        phases=run.timeline.spans(),
        timeline=run.timeline.points(session.collector.latency),
    )
