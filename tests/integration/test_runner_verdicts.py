"""Full runs of the scenario library against the demo services on the real broker and Redis."""

from __future__ import annotations

from collections import Counter

import pytest

from chaosbus.clients.connection import KafkaSettings
from chaosbus.experiment.spec import ExperimentSpec
from chaosbus.monitors.probes.kafka_reader import read_source
from chaosbus.runner.check_window import check_window
from tests.integration.runner_support import (
    Stage,
    duplicated_payers,
    ledger_of,
    make_stage,
    run_against,
)

pytestmark = pytest.mark.integration


def shuffled_by_count(stage: Stage) -> ExperimentSpec:
    """out-of-order-updates with every message reordered in windows released by count, from
    the first message on: which updates overtake which then follows from the seed and the
    traffic alone, not from machine speed (the library's within_ms and warm-up do)."""
    return stage.spec(
        "out-of-order-updates",
        schedule={"warmup_s": 0, "inject_s": 6, "recover_s": 3},
        faults=[{"name": "shuffle-all", "type": "reorder", "probability": 1.0, "window": 8}],
    )


def paid_from_every_event(stage: Stage) -> ExperimentSpec:
    """duplicate-storm judged the way issue 20's user had to: the counter sums `total`, a
    field every event carries (created and updated ones too), and only `type: paid` adds."""
    data = stage.spec("duplicate-storm").model_dump(by_alias=True)
    data["monitor"]["checks"] = [
        {
            "name": "customer-paid",
            "model": "counter",
            "where": {"path": "$.type", "equals": "paid"},
            "extract": {
                "event_id": {"json": "$.event_id"},
                "entity": {"json": "$.customer"},
                "amount": {"json": "$.total"},
            },
            "probe": {"kind": "redis", "key": "customer:{entity}:paid"},
        }
    ]
    return ExperimentSpec.model_validate(data)


class TestEveryEventCarriesTheAmount:
    async def test_safe_service_holds(
        self, bootstrap: str, redis_url: str, topic_name: str
    ) -> None:
        """With `where`, the deduplicating service is right: no false `lost_event`."""
        stage = await make_stage(bootstrap, redis_url, topic_name)
        report = await run_against(stage, "safe", paid_from_every_event(stage))
        assert report.status == "held", report.reason
        coverage = report.checks["customer-paid"].coverage
        assert coverage.judged_events == coverage.source_events
        assert coverage.outside_where > 0
        assert coverage.events + coverage.outside_where == len(await read_source_of(stage))

    async def test_naive_service_is_caught(
        self, bootstrap: str, redis_url: str, topic_name: str
    ) -> None:
        """The service that adds every delivery is `duplicate_effect` on exactly the
        customers with a duplicated payment, and the cause speaks of amounts."""
        stage = await make_stage(bootstrap, redis_url, topic_name)
        report = await run_against(stage, "naive", paid_from_every_event(stage))
        assert report.status == "violated"
        payers = await duplicated_payers(stage, await ledger_of(stage, report.run_id))
        counts = report.checks["customer-paid"].anomalies.counts
        assert counts["duplicate_effect"] == len(payers)
        assert counts["lost_event"] == 0
        example = report.anomalies.examples["duplicate_effect"][0]
        assert example.cause is not None
        assert "the counter shows" in example.cause.mechanism
        assert "times; the service applied it" not in example.cause.mechanism


async def read_source_of(stage: Stage) -> list[object]:
    return list(await read_source(stage.kafka, stage.source))


class TestDuplicateStorm:
    async def test_safe_service_holds(
        self, bootstrap: str, redis_url: str, topic_name: str
    ) -> None:
        """The idempotent, version-aware service keeps the hypothesis: status held, exit 0."""
        stage = await make_stage(bootstrap, redis_url, topic_name)
        report = await run_against(stage, "safe", stage.spec("duplicate-storm"))
        assert report.status == "held", report.reason
        assert report.exit_code == 0
        ledger = await ledger_of(stage, report.run_id)
        decided = Counter(r.fault for r in ledger)
        assert report.faults == {kind: decided[kind] for kind in report.faults}
        assert report.faults["duplicate"] == sum(len(r.emissions) > 1 for r in ledger)
        assert report.anomalies.total == 0
        for check in report.checks.values():
            assert check.coverage.judged_events == check.coverage.source_events

    async def test_naive_service_is_caught(
        self, bootstrap: str, redis_url: str, topic_name: str
    ) -> None:
        """The service that adds every delivery is violated, naming duplicate_effect: exit 1."""
        stage = await make_stage(bootstrap, redis_url, topic_name)
        report = await run_against(stage, "naive", stage.spec("duplicate-storm"))
        assert report.status == "violated"
        assert report.exit_code == 1
        ledger = await ledger_of(stage, report.run_id)
        payers = await duplicated_payers(stage, ledger)
        paid = report.checks["customer-paid"].anomalies.counts["duplicate_effect"]
        assert paid == len(payers)
        assert "duplicate_effect" in (report.reason or "")
        example = report.anomalies.examples["duplicate_effect"][0]
        assert example.unit.startswith("c-")  # a real customer of the traffic
        # `chaosbus check` over the recorded window reaches the same verdict afterwards.
        again = await check_window(
            stage.spec("duplicate-storm"),
            kafka=KafkaSettings(bootstrap),
            redis_url=redis_url,
            run_id=report.run_id,
            key_prefix=stage.prefix,
        )
        assert again.status == "violated"
        assert again.exit_code == 1
        assert (
            again.anomalies.counts["duplicate_effect"]
            == report.anomalies.counts["duplicate_effect"]
        )


class TestLibraryAgainstTheSafeService:
    @pytest.mark.parametrize(
        "name", ["out-of-order-updates", "slow-automation", "lost-events", "stale-redelivery"]
    )
    async def test_scenario_holds(
        self, name: str, bootstrap: str, redis_url: str, topic_name: str
    ) -> None:
        """Each scenario injects its fault, and the correct service keeps its hypothesis."""
        stage = await make_stage(bootstrap, redis_url, topic_name)
        report = await run_against(stage, "safe", stage.spec(name))
        assert report.status == "held", report.reason
        decided = Counter(r.fault for r in await ledger_of(stage, report.run_id))
        assert report.faults == {kind: decided[kind] for kind in report.faults}
        assert set(decided) - {"pass"}  # the scenario's fault did fire


class TestOutOfOrderUpdates:
    async def test_naive_service_is_caught(
        self, bootstrap: str, redis_url: str, topic_name: str
    ) -> None:
        """The last-write-wins service shows an older version over a newer one."""
        stage = await make_stage(bootstrap, redis_url, topic_name)
        report = await run_against(stage, "naive", shuffled_by_count(stage))
        assert report.status == "violated"
        assert report.anomalies.counts["stale_overwrite"] > 0
        example = report.anomalies.examples["stale_overwrite"][0]
        assert example.unit.startswith(stage.prefix)  # a real order of the traffic

    async def test_delete_by_removing_the_key_is_caught(
        self, bootstrap: str, redis_url: str, topic_name: str
    ) -> None:
        """The service that deletes by removing the key lets a late update bring it back."""
        stage = await make_stage(bootstrap, redis_url, topic_name)
        report = await run_against(stage, "naive", shuffled_by_count(stage))
        assert report.anomalies.counts["resurrected"] > 0
        example = report.anomalies.examples["resurrected"][0]
        assert example.unit.startswith(stage.prefix)  # a real order of the traffic
        assert "deleted" in str(example.expected)


class TestNoFalsePositive:
    @pytest.mark.parametrize("seed", [3, 11])
    @pytest.mark.parametrize("name", ["duplicate-storm", "out-of-order-updates"])
    async def test_correct_service_is_clean_under_other_seeds(
        self, name: str, seed: int, bootstrap: str, redis_url: str, topic_name: str
    ) -> None:
        """Other seeds fault other messages; the correct service still gets a clean verdict."""
        stage = await make_stage(bootstrap, redis_url, topic_name)
        report = await run_against(stage, "safe", stage.spec(name, seed=seed))
        assert report.seed == seed
        assert report.status == "held", report.reason
        assert report.anomalies.total == 0
        decided = Counter(r.fault for r in await ledger_of(stage, report.run_id))
        assert report.faults == {kind: decided[kind] for kind in report.faults}
        assert set(decided) - {"pass"}  # the scenario's fault did fire
