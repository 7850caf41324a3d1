"""chaosbus in a team's own pytest suite: the demo's ledger service under a duplicate storm.

`ledger-safe` deduplicates by event id and holds; `ledger-naive` adds every payment it
receives, so the test fails, and the failure names `duplicate_effect` with a customer, the
expected and observed totals and the fault that caused it. Needs Kafka and Redis: the local
stack (`chaosbus local up`) or CHAOSBUS_BOOTSTRAP / CHAOSBUS_REDIS; and pytest-asyncio.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest

from chaosbus.pytest_plugin import Chaosbus
from chaosbus.settings import resolve_kafka, resolve_redis
from chaosbus.testing import create_topics
from chaosbus_demo.services import LedgerService, ServiceConfig
from chaosbus_demo.traffic import KafkaSink, order_events, play

SCHEDULE = {"warmup_s": 1, "inject_s": 3, "recover_s": 2}


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["safe", "naive"])
async def test_every_payment_is_counted_once(chaosbus: Chaosbus, kind: str) -> None:
    kafka, redis = resolve_kafka(), resolve_redis()
    run = uuid.uuid4().hex[:8]
    source, destination = f"example-{run}.orders.nocode", f"example-{run}.orders"
    await create_topics(kafka.bootstrap, [source, destination], 3)
    service = ServiceConfig(
        kind=kind,  # type: ignore[arg-type]
        topic=destination,
        kafka=kafka,
        redis_url=redis,
        prefix=f"{kind}-{run}:",
        group_id=f"example-{run}.{kind}",
    )
    stop = asyncio.Event()
    async with LedgerService(service) as ledger, KafkaSink(kafka, source) as sink:
        serving = asyncio.create_task(ledger.run(stop))
        orders = order_events(150, seed=3, namespace=f"{run}-")
        traffic = asyncio.create_task(play(orders, sink, rate=40))
        try:
            report = await chaosbus.run(
                "duplicate-storm",  # a shipped scenario; a file or a dict work too
                source=source,
                destination=destination,
                schedule=SCHEDULE,
                group_id=f"example-{run}.chaosbus",
                settle_ms=1_500,
                key_prefix=f"{kind}-{run}:",  # where this service keeps its ledger
            )
        finally:
            stop.set()
            traffic.cancel()
            await serving
    chaosbus.assert_held(report)
