"""What the history keeps of one run: a summary to list and trend, and the whole of it.

    RunSummary    the columns a table, a trend or a baseline reads: who, what, when, the
                  status and exit code, the labels, and the measures
    Measures      anomaly counts by class, faults by type, time to recovery, latency p50 and
                  p99, judged share, every hypothesis with its observed value
    StoredRun     the summary, the experiment's exact text (its sha256 is in the summary),
                  the run's facts (`runner.facts.RunFacts`) and its report as it was said

The facts are what a later `rerun` or comparison assembles again; the report is kept too,
because it is what the run said then (a later chaosbus may assemble the same facts into a
richer report). The measures are derived from the report here, by the metric names the
experiment vocabulary uses (`runner.observe.Observed`), so a trend's "judged share" is the
number a bound on `coverage.judged_share` would have read.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict

from chaosbus import __version__
from chaosbus.report.model import HypothesisResult, RunReport, Status
from chaosbus.runner.facts import RunFacts
from chaosbus.runner.observe import Observed

Origin = Literal["run", "check", "demo", "rerun", "suite"]
Tier = Literal["smoke", "standard", "deep"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Measures(_Frozen):
    anomalies_total: int
    anomalies: dict[str, int]  # by class, only the classes that occurred
    faults: dict[str, int]  # decisions by type, `pass` included
    time_to_recovery_s: float | None = None
    latency_p50_ms: float | None = None
    latency_p99_ms: float | None = None
    judged_share: float | None = None
    hypotheses: tuple[HypothesisResult, ...] = ()


class RunSummary(_Frozen):
    id: str  # the history's own id: a run's run id; a check gets one of its own
    run_id: str  # the run whose ledger records were judged
    origin: Origin
    experiment: str
    experiment_sha256: str
    seed: int
    status: Status
    exit_code: int
    started_ms: int
    duration_s: float
    recorded_ms: int
    chaosbus_version: str
    labels: dict[str, str] = {}
    tier: Tier | None = None
    suite: str | None = None  # the suite this run belonged to
    rerun_of: str | None = None  # the history id a `rerun` repeated
    measures: Measures

    @property
    def service(self) -> str:
        """The `service` label, or "" (trends are per scenario x service)."""
        return self.labels.get("service", "")


class StoredRun(_Frozen):
    summary: RunSummary
    experiment_text: str
    facts: RunFacts
    report: RunReport


def sha256_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def measures_of(report: RunReport) -> Measures:
    observed = Observed(
        report.checks,
        report.faults,
        time_to_recovery_s=report.metrics.time_to_recovery_s,
        service=report.service,
    )
    latency = report.metrics.latency_ms
    return Measures(
        anomalies_total=report.anomalies.total,
        anomalies={name: n for name, n in sorted(report.anomalies.counts.items()) if n},
        faults=dict(sorted(report.faults.items())),
        time_to_recovery_s=report.metrics.time_to_recovery_s,
        latency_p50_ms=latency.p50,
        latency_p99_ms=latency.p99,
        judged_share=observed.value("coverage.judged_share"),
        hypotheses=tuple(report.hypotheses),
    )


def stored_run(
    *,
    report: RunReport,
    facts: RunFacts,
    experiment_text: str,
    origin: Origin,
    recorded_ms: int,
    labels: dict[str, str] | None = None,
    tier: Tier | None = None,
    suite: str | None = None,
    rerun_of: str | None = None,
    entry_id: str | None = None,
) -> StoredRun:
    """One run as the history keeps it. A run is filed under its run id; a check (which
    judges another run's window, under that run's id) gets an id of its own."""
    if entry_id is None:
        entry_id = report.run_id if facts.live else new_entry_id()
    summary = RunSummary(
        id=entry_id,
        run_id=report.run_id,
        origin=origin,
        experiment=report.name,
        experiment_sha256=sha256_of(experiment_text),
        seed=report.seed,
        status=report.status,
        exit_code=report.exit_code,
        started_ms=facts.window.started_ms,
        duration_s=report.duration_s,
        recorded_ms=recorded_ms,
        chaosbus_version=__version__,
        labels=dict(labels or {}),
        tier=tier,
        suite=suite,
        rerun_of=rerun_of,
        measures=measures_of(report),
    )
    return StoredRun(summary=summary, experiment_text=experiment_text, facts=facts, report=report)


def new_entry_id() -> str:
    return uuid.uuid4().hex[:12]
