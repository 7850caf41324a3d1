"""The verdict on how an automation retries, from the HTTP proxy's own request log.

Attempts are grouped by logical request (the proxy's `request_id`: an idempotency-key
header, else a hash of method, path and body), in arrival order. Over those groups:

* `retries.max_attempts` — the most attempts any one logical request took;
* `retries.backoff_ratio` — the median, over requests retried at least twice, of the median
  ratio between successive gaps: about 1 for a fixed delay, about 2 for doubling backoff;
* `retries.storm_rps` — retry attempts per second between the first and the last failed
  answer of the run: the load the automation adds while the service is failing;
* `retries.gave_up` — logical requests whose every attempt failed;
* `retries.delivered_twice` — logical requests the service answered with success more than
  once (a retry after a lost answer, or a duplicated webhook).

Anomalies, each judged against a `RetryPolicy`: `unbounded_retries` (a request attempted more
than `max_attempts` times), `no_backoff` (gaps that do not grow by `min_backoff_ratio`),
`retry_storm` (`storm_rps` above `max_storm_rps`), `retry_duplicate_effect` (the service
accepted one logical request more than once). Pure: no I/O, no clock.
"""

from __future__ import annotations

import itertools
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from chaosbus.injectors.http.log_record import LoggedRequest

UNBOUNDED_RETRIES = "unbounded_retries"
NO_BACKOFF = "no_backoff"
RETRY_STORM = "retry_storm"
RETRY_DUPLICATE_EFFECT = "retry_duplicate_effect"
RETRY_ANOMALIES = (UNBOUNDED_RETRIES, NO_BACKOFF, RETRY_STORM, RETRY_DUPLICATE_EFFECT)
RETRY_METRICS = (
    "retries.max_attempts",
    "retries.backoff_ratio",
    "retries.storm_rps",
    "retries.gave_up",
    "retries.delivered_twice",
)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 8
    min_backoff_ratio: float = 1.5
    max_storm_rps: float = 20.0


@dataclass(frozen=True, slots=True)
class RetryFinding:
    anomaly: str
    request_id: str
    detail: str


@dataclass(frozen=True, slots=True)
class RetryVerdict:
    metrics: dict[str, float]
    findings: tuple[RetryFinding, ...]

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(RETRY_ANOMALIES, 0)
        for finding in self.findings:
            out[finding.anomaly] += 1
        return out


def group_attempts(attempts: Iterable[LoggedRequest]) -> dict[str, list[LoggedRequest]]:
    groups: dict[str, list[LoggedRequest]] = defaultdict(list)
    for attempt in attempts:
        groups[attempt.request_id].append(attempt)
    for group in groups.values():
        group.sort(key=lambda a: a.arrived_at_ms)
    return dict(groups)


def gap_growth(times_ms: Sequence[int]) -> float | None:
    """Median ratio of successive gaps; None with fewer than three attempts."""
    gaps = [b - a for a, b in itertools.pairwise(times_ms)]
    ratios = [later / max(earlier, 1) for earlier, later in itertools.pairwise(gaps)]
    return statistics.median(ratios) if ratios else None


def storm_rps(attempts: Sequence[LoggedRequest]) -> float:
    """Retries (attempts after a request's first) per second while answers were failing."""
    failures = [a.arrived_at_ms for a in attempts if a.failed]
    if not failures:
        return 0.0
    start, end = min(failures), max(failures)
    firsts = {g[0] for g in group_attempts(attempts).values()}
    retries = sum(1 for a in attempts if a not in firsts and start <= a.arrived_at_ms <= end)
    return retries / max((end - start) / 1000.0, 1.0)


def judge_retries(attempts: Iterable[LoggedRequest], policy: RetryPolicy) -> RetryVerdict:
    every = list(attempts)
    groups = group_attempts(every)
    findings: list[RetryFinding] = []
    growths: list[float] = []
    for request_id, group in sorted(groups.items()):
        times = [a.arrived_at_ms for a in group]
        if len(group) > policy.max_attempts:
            findings.append(
                RetryFinding(
                    UNBOUNDED_RETRIES,
                    request_id,
                    f"{len(group)} attempts (bound {policy.max_attempts})"
                    + ("" if any(not a.failed for a in group) else ", never succeeded"),
                )
            )
        growth = gap_growth(times)
        if growth is not None:
            growths.append(growth)
            if growth < policy.min_backoff_ratio:
                gaps = [b - a for a, b in itertools.pairwise(times)]
                findings.append(
                    RetryFinding(
                        NO_BACKOFF,
                        request_id,
                        f"gaps {_gaps(gaps)} ms grow by {growth:.2f}x "
                        f"(at least {policy.min_backoff_ratio:g}x expected)",
                    )
                )
        accepted = sum(a.accepted_by_service for a in group)
        if accepted > 1:
            findings.append(
                RetryFinding(
                    RETRY_DUPLICATE_EFFECT,
                    request_id,
                    f"the service accepted it {accepted} times over {len(group)} attempts",
                )
            )
    rate = storm_rps(every)
    if rate > policy.max_storm_rps:
        findings.append(
            RetryFinding(
                RETRY_STORM,
                "*",
                f"{rate:.1f} retries/s while failing (bound {policy.max_storm_rps:g})",
            )
        )
    metrics = {
        "retries.max_attempts": float(max((len(g) for g in groups.values()), default=0)),
        "retries.backoff_ratio": statistics.median(growths) if growths else 0.0,
        "retries.storm_rps": rate,
        "retries.gave_up": float(sum(all(a.failed for a in g) for g in groups.values())),
        "retries.delivered_twice": float(
            sum(sum(a.accepted_by_service for a in g) > 1 for g in groups.values())
        ),
    }
    return RetryVerdict(metrics, tuple(findings))


def _gaps(gaps: Sequence[int]) -> str:
    shown = ", ".join(str(g) for g in gaps[:6])
    return shown + (", …" if len(gaps) > 6 else "")
