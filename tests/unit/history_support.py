"""Runs to store: a small experiment, facts with the measures a test asks for, and the
report `assemble` makes of them (so facts, report and summary always agree)."""

from __future__ import annotations

from typing import Any

import yaml

from chaosbus.experiment import parse_experiment_text
from chaosbus.experiment.spec import ExperimentSpec
from chaosbus.history.entry import Origin, StoredRun, stored_run
from chaosbus.monitors.report import Anomalies, AnomalyExample, Cause, Coverage, MonitorReport
from chaosbus.runner.assembly import assemble
from chaosbus.runner.facts import RunFacts, Window

DAY_MS = 86_400_000
T0 = 1_790_000_000_000  # 2026-09-21, a fixed start for exact dates

EXPERIMENT: dict[str, Any] = {
    "name": "paid-once",
    "hypothesis": "Every payment takes effect once.",
    "routes": [{"from": "orders", "to": "orders.out"}],
    "seed": 7,
    "tier": "smoke",
    "schedule": {"warmup_s": 0, "inject_s": 1, "recover_s": 1},
    "faults": [{"type": "duplicate", "probability": 0.5}],
    "monitor": {
        "source_topic": "orders",
        "checks": [
            {
                "name": "paid",
                "model": "counter",
                "extract": {
                    "event_id": {"json": "$.id"},
                    "entity": {"json": "$.customer"},
                    "amount": {"json": "$.amount"},
                },
                "probe": {"kind": "redis", "key": "paid:{entity}"},
            }
        ],
    },
}


def experiment_text(**changes: Any) -> str:
    return yaml.safe_dump({**EXPERIMENT, **changes}, sort_keys=False)


def spec_of(text: str) -> ExperimentSpec:
    return parse_experiment_text(text)


def facts(
    run_id: str,
    *,
    started_ms: int = T0,
    anomalies: dict[str, int] | None = None,
    ttr: float | None = 0.0,
    judged: int = 100,
    live: bool = True,
) -> RunFacts:
    counts = {"duplicate_effect": 0, "lost_event": 0, **(anomalies or {})}
    examples = {
        name: (
            AnomalyExample(
                unit="c-01",
                event_ids=("e1",),
                expected=100,
                observed=200,
                detail="counter above its expected sum",
                cause=Cause(mechanism="e1 delivered twice by fault `dup`", faulted=True),
            ),
        )
        for name, n in counts.items()
        if n
    }
    check = MonitorReport(
        model="counter",
        anomalies=Anomalies(counts=counts, examples=examples),
        coverage=Coverage(source_events=100, events=100, judged_events=judged, units=10, judged=10),
    )
    return RunFacts(
        run_id=run_id,
        actor="test",
        window=Window(started_ms=started_ms, ended_ms=started_ms + 9_000),
        checks={"paid": check},
        faults={"pass": 90, "duplicate": 10},
        faults_suppressed={},
        live=live,
        time_to_recovery_s=ttr if live else None,
    )


def stored(
    run_id: str,
    *,
    text: str | None = None,
    origin: Origin = "run",
    labels: dict[str, str] | None = None,
    **fact_changes: Any,
) -> StoredRun:
    text = text or experiment_text()
    run_facts = facts(run_id, **fact_changes)
    report = assemble(spec_of(text), run_facts)
    return stored_run(
        report=report,
        facts=run_facts,
        experiment_text=text,
        origin=origin,
        recorded_ms=run_facts.window.ended_ms,
        labels=labels if labels is not None else {"service": "orders-api"},
        tier="smoke",
    )
