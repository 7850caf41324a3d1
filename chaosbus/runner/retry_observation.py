"""The retry verdict of a run: `monitors.retries` over each HTTP route, folded into one.

Each route is judged with its own `retry_policy`; the experiment's metrics take the worst
route: the most attempts, the flattest backoff, the fiercest storm, and the sums of requests
abandoned and accepted twice. A metric with nothing to measure is unknown (absent), not 0:
before any request, every `retries.*`; before any request was retried twice (three
attempts), `retries.backoff_ratio`. An unknown value never breaches a guardrail nor
confirms a hypothesis (`chaosbus.experiment.bounds`). Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chaosbus.experiment.http_routes import HttpRouteSpec
from chaosbus.injectors.http.log_record import LoggedRequest
from chaosbus.monitors.report import AnomalyExample
from chaosbus.monitors.retries import RETRY_ANOMALIES, RetryFinding, group_attempts, judge_retries

# Growth is measured between successive gaps: three attempts are the least that have one.
ATTEMPTS_FOR_GROWTH = 3


@dataclass(frozen=True)
class RetryObservation:
    requests: int  # attempts logged over every HTTP route
    metrics: dict[str, float]  # known `retries.*` values only
    counts: dict[str, int]  # every name of RETRY_ANOMALIES, zeros included
    findings: tuple[tuple[str, RetryFinding], ...]  # (route name, finding)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def examples(self, max_examples: int) -> dict[str, tuple[AnomalyExample, ...]]:
        """Findings as report examples, at most `max_examples` per anomaly."""
        out: dict[str, list[AnomalyExample]] = {}
        for route, finding in self.findings:
            kept = out.setdefault(finding.anomaly, [])
            if len(kept) >= max_examples:
                continue
            event_ids = () if finding.request_id == "*" else (finding.request_id,)
            kept.append(
                AnomalyExample(
                    unit=f"{route}:{finding.request_id}",
                    event_ids=event_ids,
                    expected=None,
                    observed=None,
                    detail=f"[{route}] {finding.detail}",
                )
            )
        return {name: tuple(found) for name, found in out.items() if found}


def observe_retries(
    entries: Sequence[LoggedRequest], routes: Sequence[HttpRouteSpec]
) -> RetryObservation:
    counts = dict.fromkeys(RETRY_ANOMALIES, 0)
    findings: list[tuple[str, RetryFinding]] = []
    judged: list[dict[str, float]] = []
    growths: list[float] = []
    for route in routes:
        attempts = [e for e in entries if e.route == route.name]
        if not attempts:
            continue
        verdict = judge_retries(attempts, route.retry_policy.policy())
        judged.append(verdict.metrics)
        groups = group_attempts(attempts).values()
        if any(len(group) >= ATTEMPTS_FOR_GROWTH for group in groups):
            growths.append(verdict.metrics["retries.backoff_ratio"])
        for name, count in verdict.counts().items():
            counts[name] += count
        findings.extend((route.name, finding) for finding in verdict.findings)
    metrics: dict[str, float] = {}
    if judged:
        metrics = {
            "retries.max_attempts": max(m["retries.max_attempts"] for m in judged),
            "retries.storm_rps": max(m["retries.storm_rps"] for m in judged),
            "retries.gave_up": sum(m["retries.gave_up"] for m in judged),
            "retries.delivered_twice": sum(m["retries.delivered_twice"] for m in judged),
        }
        if growths:
            metrics["retries.backoff_ratio"] = min(growths)
    return RetryObservation(len(entries), metrics, counts, tuple(findings))
