"""From what a run observed to its verdict: hypotheses judged, anomalies merged, a status.

With no `steady_state` declared, the hypothesis is judged by `anomalies.total ≤ 0`: a
correct service shows no anomaly at all.

`conclude` is the one function from a report's parts to its status and exit code; `run`
and `check` both call it, so the same data gets the same verdict. In order:

1. `aborted` (3): a guardrail, the kill switch, an unreachable control plane or a signal
   stopped the run;
2. `error` (2): nothing was judged; the reason names the probes that failed and their last
   error, else each check's coverage (for an HTTP-only run: no request reached its proxy).
   A service stuck before every unit's copies is `violated` instead: the stall is read off
   its lag, and it fails a bound whatever the checks could not judge;
3. `inconclusive` (4): what the verdict needs could not be read (a check's final read
   failed, or the ledger was not read to the source's end: `monitors.reads`), or some
   check judged less than `min_judged_share` of its source events (unparsable,
   unobserved; events still settling when the window closed are left out, and a check
   whose events are all still settling judged none): neither a pass nor a failure can rest
   on it, so failed bounds are named in the reason but do not make it `violated`;
4. `violated` (1): a bound did not hold (an unknown value cannot confirm one);
5. `held` (0): only when everything the verdict needs was read (decision 0270).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from chaosbus.experiment.bounds import Bound
from chaosbus.experiment.metrics import FINAL_ONLY_METRICS
from chaosbus.experiment.monitor import DEFAULT_MIN_JUDGED_SHARE
from chaosbus.monitors.anomalies import COUNT_NAMES, PRECEDENCE, STALLED_CONSUMER
from chaosbus.monitors.lag import ServiceProgress
from chaosbus.monitors.reads import Reads
from chaosbus.monitors.report import (
    Anomalies,
    AnomalyExample,
    Latency,
    Metrics,
    MonitorReport,
    Staleness,
)
from chaosbus.monitors.retries import RETRY_ANOMALIES
from chaosbus.report.model import EXIT_CODES, HypothesisResult, RunReport, Status
from chaosbus.runner.observe import Observed
from chaosbus.runner.retry_observation import RetryObservation

DEFAULT_STEADY_STATE = (Bound(metric="anomalies.total", max=0),)


def steady_state(bounds: Sequence[Bound]) -> Sequence[Bound]:
    return bounds or DEFAULT_STEADY_STATE


def judge(
    bounds: Sequence[Bound], observed: Observed, phase: Literal["before", "after"]
) -> list[HypothesisResult]:
    results = []
    for bound in steady_state(bounds):
        if phase == "before" and bound.metric in FINAL_ONLY_METRICS:
            continue  # known only once the run is over (nothing to recover from yet)
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


@dataclass(frozen=True, slots=True)
class Conclusion:
    status: Status
    reason: str | None = None

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]


def conclude(
    after: Sequence[HypothesisResult],
    reports: Mapping[str, MonitorReport],
    *,
    abort_reason: str | None = None,
    min_judged_share: float = DEFAULT_MIN_JUDGED_SHARE,
    service: ServiceProgress | None = None,
    retries: RetryObservation | None = None,
    topics: bool = True,
    reads: Reads | None = None,
) -> Conclusion:
    """The status of a run or a check from its hypotheses after, per-check reports (their
    anomalies and coverage), what its readers could read, the HTTP side's retry verdict
    and abort reason; see the module docstring for the order. `topics` False: an HTTP-only
    run, judged on its request log."""
    if abort_reason is not None:
        return Conclusion("aborted", abort_reason)
    bad = failed([r for r in after if r.phase == "after"])
    if not topics:
        if retries is None or retries.requests == 0:
            return Conclusion("error", "nothing was judged: no request reached the HTTP proxy")
        if bad:
            return Conclusion("violated", describe(bad) + _retry_suffix(retries))
        return Conclusion("held")
    reads = reads or Reads()
    short = under_covered(reports, min_judged_share, service)
    if sum(r.coverage.judged for r in reports.values()) == 0:
        why = reads.failures() or short or ["no source traffic"]
        stalls = service.stalls if service is not None else ()
        definite = [r for r in bad if r.held is False]
        if stalls and definite:
            # A service stuck before every unit's copies: its states were never given
            # them (all pending), but the stall itself was read off the lag: a failure.
            return Conclusion(
                "violated",
                f"{describe(definite)} — anomalies: {STALLED_CONSUMER} {len(stalls)}; "
                "nothing else judged: " + "; ".join(why),
            )
        return Conclusion("error", "nothing was judged: " + "; ".join(why))
    unread = reads.unread()
    if unread or short:
        would = f"; not judged: {describe(bad)}" if bad else ""
        return Conclusion("inconclusive", "; ".join([*unread, *short]) + would)
    if not bad:
        return Conclusion("held")
    merged = with_service(merge_anomalies(reports, 0), service, 0)
    names = (*PRECEDENCE, STALLED_CONSUMER)
    named = [f"{name} {merged.counts[name]}" for name in names if merged.counts.get(name)]
    suffix = f" — anomalies: {', '.join(named)}" if named else ""
    return Conclusion("violated", describe(bad) + suffix + _retry_suffix(retries))


def _retry_suffix(retries: RetryObservation | None) -> str:
    if retries is None or not retries.total:
        return ""
    counts = retries.counts
    named = [f"{name} {counts[name]}" for name in RETRY_ANOMALIES if counts[name]]
    return f" — retry anomalies: {', '.join(named)}"


def conclude_report(
    report: RunReport, min_judged_share: float = DEFAULT_MIN_JUDGED_SHARE
) -> Conclusion:
    """`conclude` over a written report (its after-hypotheses, checks, reads and abort
    reason)."""
    abort = report.reason if report.status == "aborted" else None
    return conclude(
        report.hypotheses,
        report.checks,
        abort_reason=abort,
        min_judged_share=min_judged_share,
        service=report.service,
        reads=report.reads,
    )


def under_covered(
    reports: Mapping[str, MonitorReport],
    min_share: float,
    service: ServiceProgress | None = None,
) -> list[str]:
    """One line per check that judged less than `min_share` of its source events, or
    none at all because every one was still settling when the window closed (a share of
    nothing is no share: such a check would otherwise pass unseen beside the others), or
    waiting in the queue of a service that had not caught up (decision 0062)."""
    behind = service is not None and not service.caught_up
    settling = "still settling or waiting in the service's queue" if behind else "still settling"
    lines = []
    for name, report in reports.items():
        c = report.coverage
        share = c.judged_share
        if share is None and c.source_events:
            lines.append(
                f"check {name} judged none of its {c.source_events} source events: all "
                f"{c.pending} units were {settling} when the window closed"
            )
            continue
        if share is None or share >= min_share:
            continue
        missing = [f"{n} {c.unparsable[n]}" for n in sorted(c.unparsable) if c.unparsable[n]]
        gaps = [f"unparsable ({', '.join(missing)})"] if missing else []
        gaps += [f"unobserved units {c.unobserved}"] if c.unobserved else []
        detail = f": {', '.join(gaps)}" if gaps else ""
        lines.append(
            f"check {name} judged {c.judged_events} of {c.source_events - c.pending_events} "
            f"source events ({share:.1%}, below the {min_share:.0%} needed){detail}"
        )
    return lines


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
