"""From what a run observed to its verdict: hypotheses judged, anomalies merged, a status.

With no `steady_state` declared, the hypothesis is judged by `anomalies.total ≤ 0`: a
correct service shows no anomaly at all. A run that judged nothing (no source traffic, or
no downstream observation) is an `error`, not a vacuous `held`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

from chaosbus.experiment.bounds import Bound
from chaosbus.report.model import HypothesisResult, Status
from chaosbus.runner.observe import Observed
from monitors.anomalies import COUNT_NAMES, PRECEDENCE, STALLED_CONSUMER
from monitors.lag import ServiceProgress
from monitors.report import Anomalies, AnomalyExample, Latency, Metrics, MonitorReport, Staleness

DEFAULT_STEADY_STATE = (Bound(metric="anomalies.total", max=0),)


def steady_state(bounds: Sequence[Bound]) -> Sequence[Bound]:
    return bounds or DEFAULT_STEADY_STATE


def judge(
    bounds: Sequence[Bound], observed: Observed, phase: Literal["before", "after"]
) -> list[HypothesisResult]:
    results = []
    for bound in steady_state(bounds):
        if phase == "before" and bound.metric == "time_to_recovery_s":
            continue  # nothing has been injected yet, so nothing to recover from
        value, held = observed.judge(bound)
        results.append(
            HypothesisResult(
                name=bound.label,
                metric=bound.metric,
                check=bound.check,
                threshold=bound.threshold,
                observed=value,
                held=held,
                phase=phase,
            )
        )
    return results


def failed(results: Sequence[HypothesisResult]) -> list[HypothesisResult]:
    """Results that did not hold; an unknown value cannot confirm a hypothesis."""
    return [r for r in results if r.held is not True]


def describe(results: Sequence[HypothesisResult]) -> str:
    return "; ".join(f"{r.name} = {_show(r.observed)} (expected {r.threshold})" for r in results)


def status_of(
    after: Sequence[HypothesisResult],
    reports: Mapping[str, MonitorReport],
    service: ServiceProgress | None = None,
) -> tuple[Status, str | None]:
    if sum(r.coverage.judged for r in reports.values()) == 0:
        return "error", "nothing was judged: no source traffic, or no downstream observation"
    bad = failed(after)
    if not bad:
        return "held", None
    merged = with_service(merge_anomalies(reports, 0), service, 0)
    names = (*PRECEDENCE, STALLED_CONSUMER)
    named = [f"{name} {merged.counts[name]}" for name in names if merged.counts.get(name)]
    suffix = f" — anomalies: {', '.join(named)}" if named else ""
    return "violated", describe(bad) + suffix


def merge_anomalies(reports: Mapping[str, MonitorReport], max_examples: int) -> Anomalies:
    counts = dict.fromkeys(COUNT_NAMES, 0)
    examples: dict[str, list[AnomalyExample]] = {}
    for check, report in reports.items():
        for name, count in report.anomalies.counts.items():
            counts[name] = counts.get(name, 0) + count
        for name, found in report.anomalies.examples.items():
            kept = examples.setdefault(name, [])
            for example in found[: max(max_examples - len(kept), 0)]:
                # The check is named so an example can be traced to its probe.
                kept.append(example.model_copy(update={"detail": f"[{check}] {example.detail}"}))
    return Anomalies(counts=counts, examples={k: tuple(v) for k, v in examples.items() if v})


def with_service(
    anomalies: Anomalies, service: ServiceProgress | None, max_examples: int
) -> Anomalies:
    """Add the service's stalled partitions (`stalled_consumer`) to the merged anomalies."""
    if service is None or not service.stalls:
        return anomalies
    counts = dict(anomalies.counts)
    counts[STALLED_CONSUMER] = counts.get(STALLED_CONSUMER, 0) + len(service.stalls)
    examples = dict(anomalies.examples)
    examples[STALLED_CONSUMER] = tuple(
        AnomalyExample(
            unit=f"{service.topic}[{stall.partition}]",
            event_ids=(),
            expected="the committed offset moves while messages wait",
            observed=f"offset {stall.offset} for {stall.duration_ms / 1000:g} s",
            detail=(
                f"[{service.group}] partition {stall.partition} stood at offset {stall.offset} "
                f"for {stall.duration_ms / 1000:g} s with up to {stall.lag} messages waiting"
                + (" (still stalled at the end)" if stall.ongoing else "")
            ),
        )
        for stall in service.stalls[:max_examples]
    )
    return Anomalies(counts=counts, examples=examples)


def merge_metrics(reports: Mapping[str, MonitorReport], ttr: float | None) -> Metrics:
    latencies = [r.metrics.latency_ms for r in reports.values() if r.metrics.latency_ms.count]
    worst = max(latencies, key=lambda lat: lat.p99 or 0.0, default=Latency())
    behind = [
        r.metrics.staleness
        for r in reports.values()
        if r.metrics.staleness.max_versions_behind is not None
    ]
    staleness = max(behind, key=lambda s: s.max_versions_behind or 0, default=Staleness())
    return Metrics(latency_ms=worst, staleness=staleness, time_to_recovery_s=ttr)


def _show(value: float | None) -> str:
    if value is None:
        return "unknown"
    return str(int(value)) if value.is_integer() else f"{value:g}"
