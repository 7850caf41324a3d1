"""The HTTP side's part of a report: its retry anomalies beside the topic ones
(`anomalies.counts.unbounded_retries`, examples, and `anomalies.total`, decision 0110), and
the retry metrics in `metrics.retries`. The status of both sides together is
`verdict.conclude`'s, the one conclusion of run and check."""

from __future__ import annotations

from chaosbus.monitors.report import Anomalies, Metrics
from chaosbus.runner.retry_observation import RetryObservation


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
