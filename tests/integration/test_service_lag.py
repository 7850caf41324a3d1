"""The service's own progress: its consumer group's lag on the interposed topic, in a run."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from chaosbus.experiment.loader import parse_experiment
from chaosbus.report.model import RunReport
from chaosbus.runner import run_experiment
from chaosbus.testing import read_all, unique_topic
from chaosbus_demo.events import parse_event
from tests.integration.runner_support import (
    ORDER_STATE_CHECK,
    Stage,
    make_stage,
    service_and_traffic,
    service_group,
    started_by,
    traffic,
)

pytestmark = pytest.mark.integration

EVENTS = 120
HANG_AT = 60  # the service blocks on the 61st event of the traffic


def document(stage: Stage) -> dict[str, Any]:
    return {
        "name": "service-lag",
        "hypothesis": "The service keeps up with the interposed topic and its totals hold.",
        "routes": [{"from": stage.source, "to": stage.destination}],
        "seed": 42,
        "group_id": f"g-{stage.source}",
        "schedule": {"warmup_s": 0, "inject_s": 3, "recover_s": 3},
        "faults": [{"name": "retries", "type": "duplicate", "probability": 0.2}],
        "monitor": {
            "source_topic": stage.source,
            "settle_ms": 1_000,
            "service_group": service_group(stage),
            "stall_ms": 1_500,
            "checks": [
                {
                    "name": "paid",
                    "model": "counter",
                    "extract": {
                        "event_id": {"json": "$.event_id"},
                        "entity": {"json": "$.customer"},
                        "amount": {"json": "$.amount"},
                    },
                    "probe": {"key": "customer:{entity}:paid"},
                }
            ],
        },
    }


async def run(
    stage: Stage, declared: dict[str, Any], *, catch_up_timeout_s: float = 5.0, **service: Any
) -> RunReport:
    """`declared` over the safe demo service (`service`: its hang or slowness), with the
    traffic started once the run is live."""
    go = asyncio.Event()
    async with service_and_traffic(stage, "safe", events=EVENTS, rate=100.0, go=go, **service):
        options = stage.options(on_progress=started_by(go), catch_up_timeout_s=catch_up_timeout_s)
        return await run_experiment(parse_experiment(declared), options)


class TestStalledConsumer:
    async def test_a_service_stuck_on_one_message_is_named_with_its_partition(
        self, bootstrap: str, redis_url: str
    ) -> None:
        """Blocking on one message: stalled_consumer 1 on partition 0, lag never recovered."""
        stage = await make_stage(bootstrap, redis_url, unique_topic("stall"), partitions=1)
        hang = traffic(stage, EVENTS)[HANG_AT].event_id
        report = await run(stage, document(stage), hang_on=hang)
        delivered = await read_all(bootstrap, stage.destination)
        hang_offset = next(r.offset for r in delivered if parse_event(r.value).event_id == hang)

        assert report.anomalies.counts["stalled_consumer"] == 1
        (example,) = report.anomalies.examples["stalled_consumer"]
        assert example.unit == f"{stage.destination}[0]"
        assert report.service is not None
        (stall,) = report.service.stalls
        assert stall.partition == 0
        assert stall.ongoing
        assert stall.offset <= hang_offset  # committed up to the batch that holds it
        assert stall.lag >= len(delivered) - hang_offset
        assert report.service.caught_up is False
        assert report.service.recovered_s is None
        assert report.metrics.time_to_recovery_s is None  # recovery waits for the lag
        assert report.status == "violated", report.reason
        assert "stalled_consumer 1" in (report.reason or "")


class TestHealthyConsumer:
    async def test_a_service_that_keeps_up_shows_no_stall_and_recovers(
        self, bootstrap: str, redis_url: str
    ) -> None:
        """The same run without the hang: no stall, lag caught up, time to recovery known."""
        stage = await make_stage(bootstrap, redis_url, unique_topic("nostall"), partitions=1)
        report = await run(stage, document(stage))
        assert report.anomalies.counts["stalled_consumer"] == 0
        assert report.service is not None
        assert report.service.stalls == ()
        assert report.service.caught_up is True
        assert report.service.recovered_s is not None
        assert report.service.lag_max is not None
        assert report.metrics.time_to_recovery_s is not None
        assert report.status == "held", report.reason
        # A counter judges every customer: one whose events carry no amount still has a
        # total (zero) that must hold.
        assert report.checks["paid"].coverage.judged == len(
            {e.customer for e in traffic(stage, EVENTS) if e.customer is not None}
        )


SLOW_APPLY_MS = 40.0  # 25 events a second against 100 produced: seconds behind


def slow_and_guarded(stage: Stage) -> dict[str, Any]:
    """The order-state check over a service that applies slowly, an anomalies guardrail."""
    lagging = document(stage)
    lagging["monitor"]["checks"] = [ORDER_STATE_CHECK]
    lagging["guardrails"] = [{"name": "no-anomaly", "metric": "anomalies.total", "max": 0}]
    return lagging


async def run_slow(stage: Stage, declared: dict[str, Any]) -> RunReport:
    """The safe service applying slowly, and time to catch up at the end."""
    return await run(stage, declared, catch_up_timeout_s=15.0, apply_delay_ms=SLOW_APPLY_MS)


class TestLaggingCorrectService:
    async def test_a_guardrail_on_anomalies_never_trips_for_a_correct_service_behind(
        self, bootstrap: str, redis_url: str
    ) -> None:
        """A correct service seconds behind shows older states while newer copies wait in
        its queue. The live checker reads the group's commits: those units are pending,
        not `stale_overwrite`, so an `anomalies.total` guardrail holds and every order is
        judged once the service caught up."""
        stage = await make_stage(bootstrap, redis_url, unique_topic("lagging"), partitions=1)
        lagging = slow_and_guarded(stage)
        # Slow, not stuck: it applies a whole poll's batch (seconds of work) before it commits.
        lagging["monitor"]["stall_ms"] = 10_000
        report = await run_slow(stage, lagging)

        assert report.service is not None
        assert report.service.lag_max is not None
        # Behind by well over settle_ms (1 s at 25 events a second): the case in point.
        assert report.service.lag_max >= 30, report.service.lag_max
        (guardrail,) = report.guardrails
        assert (guardrail.breached, guardrail.worst) == (False, 0)
        assert report.status == "held", report.reason
        orders = {e.order_id for e in traffic(stage, EVENTS)}
        assert report.checks["order-state"].coverage.judged == len(orders)

    async def test_aborted_while_the_service_is_behind_names_only_the_stall(
        self, bootstrap: str, redis_url: str
    ) -> None:
        """With `stall_ms` below the service's batch time, the guardrail aborts the run on
        `stalled_consumer` while copies wait in the service's queue. Their units are pending
        in the verdict: a state the service had not been given is no evidence (before, the
        same run read stale_overwrite 9, lost_event 5, resurrected 3 for a correct service)."""
        stage = await make_stage(bootstrap, redis_url, unique_topic("behind"), partitions=1)
        report = await run_slow(stage, slow_and_guarded(stage))  # stall_ms 1.5 s

        assert report.status == "aborted"
        assert "guardrail no-anomaly breached" in (report.reason or "")
        assert {k: n for k, n in report.anomalies.counts.items() if n} == {"stalled_consumer": 1}
        assert report.checks["order-state"].coverage.pending >= 1
