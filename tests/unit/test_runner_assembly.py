"""One path from facts to a report: what a run or a check observed, frozen as `RunFacts`,
stored and read back, and assembled by the one function `run`, `check` and HTTP-only runs
share (with the privacy step and the service's stalls that `check` used to miss)."""

from __future__ import annotations

import json
from typing import Any

from chaosbus.experiment import parse_experiment
from chaosbus.experiment.spec import ExperimentSpec
from chaosbus.injectors.envelope import Envelope, SourceCoordinates
from chaosbus.monitors.history import Effect
from chaosbus.monitors.lag import ServiceProgress, Stall
from chaosbus.monitors.report import Latency
from chaosbus.monitors.retries import RETRY_ANOMALIES, RetryFinding
from chaosbus.monitors.testing import ledger_record
from chaosbus.report.markdown import to_markdown
from chaosbus.report.model import HypothesisResult, PhaseSpan
from chaosbus.runner.assembly import assemble
from chaosbus.runner.check_window import window_facts
from chaosbus.runner.collector import Collector
from chaosbus.runner.facts import RunFacts, Window
from chaosbus.runner.retry_observation import RetryObservation

ONCE = {"event_id": {"json": "$.id"}, "entity": {"json": "$.customer"}}


def experiment(**extra: Any) -> ExperimentSpec:
    return parse_experiment(
        {
            "name": "paid-once",
            "hypothesis": "Every payment takes effect once.",
            "routes": [{"from": "orders", "to": "orders.out"}],
            "seed": 7,
            "schedule": {"inject_s": 1},
            "faults": [{"type": "duplicate", "probability": 0.5}],
            "monitor": {
                "source_topic": "orders",
                "service_group": "payments",
                "checks": [
                    {
                        "name": "paid",
                        "model": "once",
                        "extract": ONCE,
                        "probe": {"kind": "kafka", "topic": "fx", "event_id": {"json": "$.id"}},
                    }
                ],
            },
            **extra,
        }
    )


def window_collector(spec: ExperimentSpec) -> tuple[Collector, list[Any]]:
    """A recorded window of three payments (`p-1` duplicated): the ledger's records, the
    source messages, and the effects topic read whole (`p-1` twice, another run's `zz`)."""
    collector = Collector(spec.monitor, live=False)
    envelopes = [
        Envelope(
            key=None,
            value=json.dumps({"id": f"p-{n}", "customer": f"c-{n}"}).encode(),
            headers=(),
            timestamp_ms=1_000 + n,
            source=SourceCoordinates("orders", 0, n),
        )
        for n in (1, 2, 3)
    ]
    extract = collector.checks["paid"].extractor
    ledger = [
        ledger_record(event, fault="duplicate" if event.event_id == "p-1" else "pass")
        for event in (extract(e) for e in envelopes)
        if event is not None
    ]
    for record in ledger:
        collector.feed_ledger(record)
    for envelope in envelopes:
        collector.feed_source(envelope)
    effects = [Effect(i, 2_000) for i in ("p-1", "p-1", "p-2", "p-3", "zz")]
    collector.feed_effects("paid", effects)
    return collector, ledger


def checked(spec: ExperimentSpec) -> RunFacts:
    collector, ledger = window_collector(spec)
    return window_facts(spec, collector, ledger, run_id="r1", actor="ci", now_ms=60_000)


STALL = Stall(partition=0, offset=4, lag=9, since_ms=10, duration_ms=6_000, ongoing=True)
SERVICE = ServiceProgress(
    group="payments",
    topic="orders.out",
    samples=12,
    lag_max=9,
    recovered_s=None,
    caught_up=False,
    stalls=(STALL,),
)


class TestCheckFacts:
    def test_a_window_judged_after_the_fact(self) -> None:
        """Only the window's effects count (not another run's `zz`): p-1's second effect is
        the one anomaly; faults come from the ledger; no phase, no guardrail, 0 s."""
        report = assemble(experiment(), checked(experiment()))
        assert report.anomalies.counts["duplicate_effect"] == 1
        assert report.checks["paid"].coverage.orphan_effects == 0
        assert report.faults == {"duplicate": 1, "pass": 2}
        assert (report.status, report.exit_code) == ("violated", 1)
        assert (report.duration_s, report.phases, report.guardrails) == (0.0, [], [])

    def test_check_hashes_identifiers_under_privacy_hashed(self) -> None:
        """`privacy: hashed` now reaches `check` too: its examples name pseudonyms only (a
        salt of its own), where the same window in the clear names the payment."""
        clear = assemble(experiment(), checked(experiment()))
        (example,) = clear.anomalies.examples["duplicate_effect"]
        assert example.event_ids == ("p-1",)
        hashed_spec = experiment(privacy={"identifiers": "hashed"})
        hashed = assemble(hashed_spec, checked(hashed_spec))
        (hidden,) = hashed.anomalies.examples["duplicate_effect"]
        assert hidden.unit.startswith("h-")
        assert hidden.event_ids[0].startswith("h-")
        assert "p-1" not in hashed.model_dump_json()
        assert hashed.anomalies.counts == clear.anomalies.counts

    def test_the_service_stalls_reach_a_checked_report(self) -> None:
        """Facts carrying the service's progress get its stall merged, whoever gathered
        them: `check` assembles through the same path as `run`."""
        facts = checked(experiment()).model_copy(update={"service": SERVICE})
        report = assemble(experiment(), facts)
        assert report.anomalies.counts["stalled_consumer"] == 1
        (stalled,) = report.anomalies.examples["stalled_consumer"]
        assert stalled.unit == "orders.out[0]"
        assert report.service == SERVICE

    def test_time_to_recovery_is_left_out_after_the_fact(self) -> None:
        """A `time_to_recovery_s` bound is judged on a run's facts (unknown: not held) and
        left out of a check's, whose window has no live series."""
        bounds = [
            {"metric": "time_to_recovery_s", "max": 5},
            {"metric": "anomalies.total", "max": 1},
        ]
        spec = experiment(steady_state=bounds)
        after_the_fact = assemble(spec, checked(spec))
        assert [h.metric for h in after_the_fact.hypotheses] == ["anomalies.total"]
        live = assemble(spec, checked(spec).model_copy(update={"live": True}))
        assert [(h.metric, h.held) for h in live.hypotheses] == [
            ("time_to_recovery_s", None),
            ("anomalies.total", True),
        ]

    def test_latency_is_left_out_after_the_fact(self) -> None:
        """A first sighting at check time measures when check looked: a check's report has
        no end-to-end latency, leaves latency bounds out of the judgement and says so in
        its Markdown; the same facts live keep both."""
        spec = experiment(steady_state=[{"metric": "latency_ms.p99", "max": 10_000}])
        live = assemble(spec, checked(spec).model_copy(update={"live": True}))
        assert live.metrics.latency_ms.count == 3
        assert [h.metric for h in live.hypotheses] == ["latency_ms.p99"]
        after = assemble(spec, checked(spec))
        assert (after.after_the_fact, after.metrics.latency_ms) == (True, Latency())
        assert after.hypotheses == []
        assert (
            "- end-to-end latency, time to recovery: not measured after the fact (a live run's "
            "reads time them)" in to_markdown(after).splitlines()
        )


class TestStoredFacts:
    def test_facts_survive_json_and_assemble_to_the_same_report(self) -> None:
        """Facts written as JSON (as a run history would) and read back are equal, and
        re-assemble to the same report: a re-run needs nothing else but the experiment."""
        spec = experiment(guardrails=[{"metric": "anomalies.total", "max": 10}])
        retries = RetryObservation(
            requests=4,
            metrics={"retries.max_attempts": 3.0},
            counts={**dict.fromkeys(RETRY_ANOMALIES, 0), "unbounded_retries": 1},
            findings=(("pricing", RetryFinding("unbounded_retries", "k-1", "4 attempts")),),
        )
        facts = checked(spec).model_copy(
            update={
                "live": True,
                "service": SERVICE,
                "retries": retries,
                "window": Window(
                    started_ms=1_000,
                    ended_ms=9_500,
                    phases=(PhaseSpan(name="inject", start_s=0.0, end_s=8.5),),
                ),
                "before": (
                    HypothesisResult(
                        name="anomalies.total ≤ 10",
                        metric="anomalies.total",
                        threshold="≤ 10",
                        observed=0.0,
                        held=True,
                        phase="before",
                    ),
                ),
                "guardrail_worst": {0: 3.0},
            }
        )
        stored = RunFacts.model_validate_json(facts.model_dump_json())
        assert stored == facts
        report = assemble(spec, stored)
        assert report == assemble(spec, facts)
        assert (report.duration_s, report.guardrails[0].worst) == (8.5, 3.0)
        assert report.anomalies.counts["unbounded_retries"] == 1


class TestNothingJudged:
    def test_no_hypothesis_reads_held_on_nothing(self) -> None:
        """A window in which no check judged anything: `error`, and `anomalies.total ≤ 0`
        (true of nothing) is shown `unknown`, never `held` (issue 20)."""
        spec = experiment()
        collector = Collector(spec.monitor, live=False)
        report = assemble(
            spec, window_facts(spec, collector, [], run_id="r0", actor="ci", now_ms=60_000)
        )
        assert report.status == "error"
        assert report.reason == "nothing was judged: no source traffic"
        assert [(h.metric, h.observed, h.held) for h in report.hypotheses] == [
            ("anomalies.total", 0.0, None)
        ]
