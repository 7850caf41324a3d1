"""Resolve the experiment's metric names against what a run has observed.

The same names serve the live guardrails (over live snapshots) and the steady-state bounds
(over live snapshots before injection, over the batch verdict after). Anomaly and coverage
counts add up across checks; staleness and latency take the worst check.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from chaosbus.experiment.bounds import Bound
from chaosbus.injectors.http.plan import HTTP_FAULT_TYPES
from chaosbus.injectors.plan import FAULT_TYPES
from chaosbus.monitors.anomalies import STALLED_CONSUMER
from chaosbus.monitors.lag import ServiceProgress
from chaosbus.monitors.report import Latency, MonitorReport
from chaosbus.monitors.retries import RETRY_ANOMALIES
from chaosbus.runner.retry_observation import RetryObservation


@dataclass(frozen=True)
class Observed:
    reports: Mapping[str, MonitorReport]
    faults: Mapping[str, int] = field(default_factory=dict)
    held: int = 0
    latency: Latency | None = None  # None: take the reports' own (the batch verdict)
    time_to_recovery_s: float | None = None
    service: ServiceProgress | None = None  # None: no monitor.service_group
    # The HTTP side's retry verdict so far; None: the experiment has no http_routes.
    retries: RetryObservation | None = None

    def value(self, metric: str, check: str | None = None) -> float | None:
        reports = [r for name, r in self.reports.items() if check is None or name == check]
        group, _, name = metric.partition(".")
        # The service's stalls and the retry anomalies belong to no check: counted when no
        # check is named.
        stalled = len(self.service.stalls) if self.service and check is None else 0
        retries = self.retries if check is None else None
        if group == "anomalies":
            if name in RETRY_ANOMALIES:
                return float(retries.counts[name] if retries else 0)
            if name == "total":
                http = retries.total if retries else 0
                return float(sum(r.anomalies.total for r in reports) + stalled + http)
            extra = stalled if name == STALLED_CONSUMER else 0
            return float(sum(r.anomalies.counts.get(name, 0) for r in reports) + extra)
        if group == "service":
            return self._service(name)
        if group == "retries":
            return None if self.retries is None else self.retries.metrics.get(metric)
        if group == "coverage":
            return _coverage(name, reports)
        if group == "faults":
            if name == "injected":
                kinds = (*FAULT_TYPES, *(f"http.{kind}" for kind in HTTP_FAULT_TYPES))
                return float(sum(self.faults.get(kind, 0) for kind in kinds))
            return float(self.faults.get(name, 0))
        if metric == "staleness.max_versions_behind":
            known = [r.metrics.staleness.max_versions_behind for r in reports]
            return _worst([float(v) for v in known if v is not None])
        if group == "latency_ms":
            return self._latency(name, reports)
        if metric == "held":
            return float(self.held)
        if metric == "time_to_recovery_s":
            return self.time_to_recovery_s
        raise KeyError(metric)  # the spec's vocabulary and this function disagree

    def _service(self, name: str) -> float | None:
        if self.service is None:
            return None
        if name == "lag.max":
            return None if self.service.lag_max is None else float(self.service.lag_max)
        if name == "lag.recovered_s":
            return self.service.recovered_s
        raise KeyError(f"service.{name}")

    def _latency(self, name: str, reports: list[MonitorReport]) -> float | None:
        if self.latency is not None:
            return getattr(self.latency, name)  # type: ignore[no-any-return]
        known = [getattr(r.metrics.latency_ms, name) for r in reports]
        return _worst([float(v) for v in known if v is not None])

    def judge(self, bound: Bound) -> tuple[float | None, bool | None]:
        observed = self.value(bound.metric, bound.check)
        return observed, bound.holds(observed)


def _coverage(name: str, reports: list[MonitorReport]) -> float | None:
    """Counts add up across checks; the share is recomputed from the summed counts."""
    if name == "judged_share":
        source = sum(r.coverage.source_events - r.coverage.pending_events for r in reports)
        judged = sum(r.coverage.judged_events for r in reports)
        return judged / source if source else None
    if name == "unparsable":
        return float(sum(r.coverage.unparsable_total for r in reports))
    return float(sum(getattr(r.coverage, name) for r in reports))


def _worst(values: list[float]) -> float | None:
    return max(values) if values else None
