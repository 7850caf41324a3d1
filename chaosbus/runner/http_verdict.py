"""One conclusion over both sides of a run: the topic checks and the HTTP retry verdict.

With topic routes, the topic verdict decides as before (`verdict.status_of`: nothing judged
is an error); an HTTP-only run is judged on its request log instead, and is an error when no
request reached a proxy. Either way the retry anomalies are named in a violated reason, and
enter the report beside the topic ones: `anomalies.counts.unbounded_retries`, examples, and
`anomalies.total` (decision 0110); the retry metrics go to `metrics.retries`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from chaosbus.report.model import HypothesisResult, Status
from chaosbus.runner.retry_observation import RetryObservation
from chaosbus.runner.verdict import describe, failed, status_of
from monitors.report import Anomalies, Metrics, MonitorReport
from monitors.retries import RETRY_ANOMALIES


def conclude(
    after: Sequence[HypothesisResult],
    reports: Mapping[str, MonitorReport],
    retries: RetryObservation | None,
    *,
    kafka: bool,
) -> tuple[Status, str | None]:
    status: Status
    reason: str | None
    if kafka:
        status, reason = status_of(after, reports)
    elif retries is None or retries.requests == 0:
        return "error", "nothing was judged: no request reached the HTTP proxy"
    else:
        bad = failed(after)
        status, reason = ("violated", describe(bad)) if bad else ("held", None)
    if status == "violated" and retries is not None and retries.total:
        counts = retries.counts
        named = [f"{name} {counts[name]}" for name in RETRY_ANOMALIES if counts[name]]
        reason = f"{reason} — retry anomalies: {', '.join(named)}"
    return status, reason


def with_retry_anomalies(
    anomalies: Anomalies, retries: RetryObservation | None, max_examples: int
) -> Anomalies:
    if retries is None:
        return anomalies
    return Anomalies(
        counts={**anomalies.counts, **retries.counts},
        examples={**anomalies.examples, **retries.examples(max_examples)},
    )


def with_retry_metrics(metrics: Metrics, retries: RetryObservation | None) -> Metrics:
    if retries is None:
        return metrics
    values = {name.removeprefix("retries."): value for name, value in retries.metrics.items()}
    return metrics.model_copy(update={"retries": values})
