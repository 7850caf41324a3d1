"""Assemble the run report from what an `ExperimentRun` and its session gathered."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from chaosbus.monitors.redelivery import redelivered
from chaosbus.monitors.report import MonitorReport
from chaosbus.report.model import GuardrailResult, HypothesisResult, RunReport
from chaosbus.runner.http_verdict import with_retry_anomalies, with_retry_metrics
from chaosbus.runner.observe import Observed
from chaosbus.runner.privacy import pseudonymised
from chaosbus.runner.verdict import conclude, judge, merge_anomalies, merge_metrics, with_service

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
    reports = pseudonymised(reports, session.salt)  # `privacy: hashed`: no raw identifier
    after = [] if run.abort_reason else judge(spec.steady_state, observed, "after")
    verdict = conclude(
        after,
        reports,
        abort_reason=run.abort_reason,
        min_judged_share=spec.monitor.min_judged_share,
        service=observed.service,
        retries=observed.retries,
        topics=bool(spec.routes),
    )
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
        status=verdict.status,
        reason=verdict.reason,
        run_id=run.run_id,
        seed=spec.seed,
        actor=run.options.actor,
        started_at=datetime.fromtimestamp(run.started_ms / 1000, tz=UTC).isoformat(
            timespec="seconds"
        ),
        started_ms=run.started_ms,
        duration_s=round(((ended or run.started_ms) - run.started_ms) / 1000, 3),
        routes=[f"{r.source} -> {r.destination}" for r in spec.routes],
        http_routes=session.http.describe(),
        request_log=str(session.http.log.path) if session.http.log.path else None,
        hypotheses=[*before, *after],
        anomalies=with_retry_anomalies(
            with_service(
                merge_anomalies(reports, spec.monitor.max_examples),
                observed.service,
                spec.monitor.max_examples,
            ),
            observed.retries,
            spec.monitor.max_examples,
        ),
        faults=session.report_fault_counts(),
        faults_suppressed=session.suppressed_counts(),
        redelivered=redelivered(session.collector.ledger),
        metrics=with_retry_metrics(merge_metrics(reports, ttr), observed.retries),
        guardrails=guardrails,
        checks=dict(reports),
        service=observed.service,
        phases=run.timeline.spans(),
        timeline=run.timeline.points(session.collector.latency),
        platform_presets=list(spec.platform_presets),
    )
