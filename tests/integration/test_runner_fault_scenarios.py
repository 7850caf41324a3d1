"""The issue-13 scenarios against the demo services on the real broker and Redis: the naive
service is caught with the anomaly each scenario is about, the safe one holds."""

from __future__ import annotations

import json

import pytest

from chaosbus.monitors.anomalies import PRECEDENCE
from chaosbus.monitors.probes.kafka_reader import read_ledger, read_topic
from chaosbus.report.model import RunReport
from tests.integration.runner_support import Stage, make_stage, run_against

pytestmark = pytest.mark.integration

# Each scenario and the anomaly a service that falls for its fault shows.
CAUGHT_WITH = {
    "poison-message": "applied_garbage",
    "schema-drift": "applied_garbage",
    "replay-storm": "duplicate_effect",
    "outage-catch-up": "stale_overwrite",
    "create-after-update": "stale_overwrite",
}
# Every anomaly the naive service may show under each scenario: all of them caused by the
# scenario's fault (a late create or a shuffled backlog also brings a cancelled order back).
MAY_SHOW = {
    "poison-message": {"applied_garbage"},
    "schema-drift": {"applied_garbage"},
    "replay-storm": {"duplicate_effect", "stale_overwrite", "resurrected"},
    "outage-catch-up": {"stale_overwrite", "resurrected"},
    "create-after-update": {"stale_overwrite", "resurrected"},
}
# first-n-fail counts from the first message: no warm-up, so its faults follow from the
# trigger and the traffic alone.
FROM_THE_FIRST_MESSAGE = {"warmup_s": 0, "inject_s": 5, "recover_s": 3}
PARTITIONS = 3
FIRST_N = 3


def faulted(report: RunReport) -> int:
    return sum(n for kind, n in report.faults.items() if kind != "pass")


class TestSafeServiceHolds:
    @pytest.mark.parametrize("name", [*CAUGHT_WITH, "first-n-fail"])
    async def test_scenario_holds(
        self, name: str, bootstrap: str, redis_url: str, topic_name: str
    ) -> None:
        """The deduplicating, version-aware, validating service keeps each hypothesis."""
        stage = await make_stage(bootstrap, redis_url, topic_name, PARTITIONS)
        schedule = FROM_THE_FIRST_MESSAGE if name == "first-n-fail" else None
        spec = stage.spec(name, schedule=schedule) if schedule else stage.spec(name)
        report = await run_against(stage, "safe", spec)
        assert report.status == "held", report.reason
        assert report.anomalies.total == 0
        assert faulted(report) > 0
        if name == "first-n-fail":
            assert report.faults["duplicate"] == PARTITIONS * FIRST_N


class TestNaiveServiceIsCaught:
    @pytest.mark.parametrize("name", list(CAUGHT_WITH))
    async def test_scenario_catches_it(
        self, name: str, bootstrap: str, redis_url: str, topic_name: str
    ) -> None:
        """The service that applies whatever it reads is violated, naming the fault's anomaly."""
        stage = await make_stage(bootstrap, redis_url, topic_name, PARTITIONS)
        report = await run_against(stage, "naive", stage.spec(name))
        anomaly = CAUGHT_WITH[name]
        assert report.status == "violated"
        assert report.exit_code == 1
        assert report.anomalies.counts[anomaly] >= 1, report.anomalies.counts
        shown = {kind for kind in PRECEDENCE if report.anomalies.counts[kind]}
        assert shown <= MAY_SHOW[name], report.anomalies.counts
        example = report.anomalies.examples[anomaly][0]
        assert example.unit.startswith((stage.prefix, "c-"))  # an order or a customer


class TestFirstNFail:
    async def test_naive_counts_exactly_the_retried_payments_twice(
        self, bootstrap: str, redis_url: str, topic_name: str
    ) -> None:
        """3 payments per partition retried: one duplicate_effect per customer they belong to."""
        stage = await make_stage(bootstrap, redis_url, topic_name, PARTITIONS)
        spec = stage.spec("first-n-fail", schedule=FROM_THE_FIRST_MESSAGE)
        report = await run_against(stage, "naive", spec)
        assert report.faults["duplicate"] == PARTITIONS * FIRST_N
        customers = await retried_customers(stage, report.run_id)
        paid = report.checks["customer-paid"].anomalies.counts
        assert paid["duplicate_effect"] == len(customers)
        assert paid["unrecovered"] == len(customers)
        # The copy follows its original at once: no order state goes wrong.
        assert report.checks["order-state"].anomalies.total == 0
        assert report.status == "violated"


async def retried_customers(stage: Stage, run_id: str) -> set[str]:
    """The customers of the payments the ledger shows delivered twice."""
    records, unreadable = await read_ledger(stage.kafka, run_id, source_topic=stage.source)
    assert unreadable == 0
    twice = {(r.partition, r.offset) for r in records if len(r.emissions) == 2}
    assert len(twice) == PARTITIONS * FIRST_N
    sources = await read_topic(stage.kafka, stage.source)
    picked = [e for e in sources if (e.source.partition, e.source.offset) in twice]
    paid = [json.loads(e.value or b"") for e in picked]
    assert [doc["type"] for doc in paid] == ["paid"] * len(twice)
    return {doc["customer"] for doc in paid}
