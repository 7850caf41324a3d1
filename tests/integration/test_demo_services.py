"""The demo's ledger services on the real broker and Redis: safe holds, naive breaks."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import pytest
from redis.asyncio import Redis

from chaosbus.clients.connection import KafkaSettings
from chaosbus.testing import Message, create_topics, produce
from chaosbus_demo.events import EVENT_ID_HEADER, OrderEvent
from chaosbus_demo.ledgers import Keys
from chaosbus_demo.services import Kind, LedgerService, ServiceConfig
from chaosbus_demo.traffic import KafkaSink, order_events, play

pytestmark = pytest.mark.integration

PARTITIONS = 3


def message(event: OrderEvent) -> Message:
    return Message(
        key=event.order_id.encode(),
        value=event.to_json(),
        headers=((EVENT_ID_HEADER, event.event_id.encode()),),
    )


def event(order: str, version: int, kind: str = "updated", **fields: object) -> OrderEvent:
    values: dict[str, object] = {
        "event_id": f"{order}-v{version}-{kind}",
        "type": kind,
        "order_id": order,
        "version": version,
        "customer": "c-01",
        "status": {"created": "open", "updated": "open"}.get(kind, kind),
        "total": 1000 + version,
        "amount": 1000 + version if kind == "paid" else None,
    }
    values.update(fields)
    return OrderEvent(**values)  # type: ignore[arg-type]


@asynccontextmanager
async def running(config: ServiceConfig) -> AsyncIterator[LedgerService]:
    stop = asyncio.Event()
    async with LedgerService(config) as service:
        task = asyncio.create_task(service.run(stop))
        try:
            yield service
        finally:
            stop.set()
            await task


async def apply_stream(
    kind: Kind, deliveries: Sequence[OrderEvent], *, bootstrap: str, redis_url: str, topic: str
) -> tuple[Keys, Counter[str]]:
    """Deliver events in this order to a fresh topic and let one service consume them all."""
    await create_topics(bootstrap, [topic], PARTITIONS)
    await produce(bootstrap, topic, [message(e) for e in deliveries])
    config = ServiceConfig(
        kind=kind,
        topic=topic,
        kafka=KafkaSettings(bootstrap),
        redis_url=redis_url,
        prefix=f"{topic}:{kind}:",
        group_id=f"{topic}-{kind}",
    )
    async with running(config) as service:
        done = await service.wait_processed(len(deliveries), timeout_s=60)
    assert done == len(deliveries)
    return Keys(config.key_prefix), service.outcomes


async def order_state(redis: Redis, keys: Keys, order_id: str) -> dict[str, str]:
    raw = await redis.hgetall(keys.order(order_id))
    return {text(k): text(v) for k, v in raw.items()}


def text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


async def paid(redis: Redis, keys: Keys, customer: str) -> int:
    return int(await redis.get(keys.paid(customer)) or 0)


def messy_stream() -> tuple[list[OrderEvent], list[OrderEvent]]:
    """The source events in order, and a delivery of them with duplicates and late versions."""
    a1, a2, a3 = event("a", 1, "created"), event("a", 2), event("a", 3)
    a4 = event("a", 4, "paid")
    b1, b2 = event("b", 1, "created", customer="c-02"), event("b", 2, customer="c-02")
    b3 = event("b", 3, "cancelled", customer="c-02")
    c1, c2 = event("c", 1, "created"), event("c", 2, "paid", amount=250)
    source = [a1, a2, a3, a4, b1, b2, b3, c1, c2]
    deliveries = [
        a1, a3, a2,       # v2 arrives after v3: must not overwrite it
        a4, a4,           # a duplicated payment
        b1, b3, b2, b2,   # an older update (twice) after the delete: must not resurrect
        c1, c2, c1, c2,   # a stale redelivery of a whole order
    ]  # fmt: skip
    return source, deliveries


class TestSafeLedger:
    async def test_duplicates_and_late_versions_end_in_the_source_state(
        self, bootstrap: str, redis_url: str, topic_name: str
    ) -> None:
        """Duplicates count once, late versions are ignored, a tombstone stops a resurrection."""
        _, deliveries = messy_stream()
        keys, outcomes = await apply_stream(
            "safe",
            deliveries,
            bootstrap=bootstrap,
            redis_url=redis_url,
            topic=topic_name,
        )
        redis = Redis.from_url(redis_url)
        try:
            a = await order_state(redis, keys, "a")
            assert (a["version"], a["status"], a["total"]) == ("4", "paid", "1004")
            assert await order_state(redis, keys, "b") == {
                "deleted": "1",
                "version": "3",
                "event_id": "b-v3-cancelled",
            }
            c = await order_state(redis, keys, "c")
            assert (c["version"], c["status"]) == ("2", "paid")
            assert await paid(redis, keys, "c-01") == 1004 + 250
            assert await paid(redis, keys, "c-02") == 0
            assert await redis.xlen(keys.effects) == len(deliveries) - outcomes["duplicate"]
        finally:
            await redis.aclose()
        # a4, b2, c1 and c2 each came twice; a2 and the first b2 came late.
        assert outcomes == Counter(applied=6, deleted=1, duplicate=4, stale=2)

    async def test_generated_traffic_gives_the_expected_ledger(
        self, bootstrap: str, redis_url: str, topic_name: str
    ) -> None:
        """Seeded traffic produced as the flow would ends with every order at its last version."""
        events = order_events(300, seed=7, namespace=f"{topic_name}-")
        await create_topics(bootstrap, [topic_name], PARTITIONS)
        async with KafkaSink(KafkaSettings(bootstrap), topic_name) as sink:
            report = await play(events, sink, rate=2_000)
        assert report.sent == len(events)
        config = ServiceConfig(
            kind="safe",
            topic=topic_name,
            kafka=KafkaSettings(bootstrap),
            redis_url=redis_url,
            prefix=f"{topic_name}:safe:",
            group_id=f"{topic_name}-safe",
        )
        async with running(config) as service:
            assert await service.wait_processed(len(events), timeout_s=60) == len(events)
        last: dict[str, OrderEvent] = {}
        sums: dict[str, int] = defaultdict(int)
        for e in events:
            last[e.order_id] = e
            sums[e.customer] += e.amount or 0
        keys = Keys(config.key_prefix)
        redis = Redis.from_url(redis_url)
        try:
            for order_id, final in last.items():
                state = await order_state(redis, keys, order_id)
                assert state["version"] == str(final.version)
                assert ("deleted" in state) == final.is_delete
            for customer, total in sums.items():
                assert await paid(redis, keys, customer) == total
        finally:
            await redis.aclose()
        assert set(service.outcomes) <= {"applied", "deleted"}


class TestNaiveLedger:
    async def test_double_counts_a_duplicated_payment_and_takes_late_versions(
        self, bootstrap: str, redis_url: str, topic_name: str
    ) -> None:
        """The naive ledger adds a duplicated payment twice and lets old versions win."""
        _, deliveries = messy_stream()
        keys, outcomes = await apply_stream(
            "naive",
            deliveries,
            bootstrap=bootstrap,
            redis_url=redis_url,
            topic=topic_name,
        )
        redis = Redis.from_url(redis_url)
        try:
            assert await paid(redis, keys, "c-01") == 2 * 1004 + 2 * 250
            # The last message received wins: b's late update brings it back after its delete.
            b = await order_state(redis, keys, "b")
            assert (b["version"], b["status"]) == ("2", "open")
            assert "deleted" not in b
            assert await redis.xlen(keys.effects) == len(deliveries)
        finally:
            await redis.aclose()
        assert outcomes == Counter(applied=len(deliveries) - 1, deleted=1)


class TestSideBySide:
    async def test_both_services_share_a_topic_and_a_redis_without_clashing(
        self, bootstrap: str, redis_url: str, topic_name: str
    ) -> None:
        """Own consumer groups and key prefixes: each service sees every record, once."""
        _, deliveries = messy_stream()
        await create_topics(bootstrap, [topic_name], PARTITIONS)
        await produce(bootstrap, topic_name, [message(e) for e in deliveries])
        base = ServiceConfig(
            kind="naive", topic=topic_name, kafka=KafkaSettings(bootstrap), redis_url=redis_url
        )
        naive = dataclasses.replace(base, prefix=f"{topic_name}:naive:")
        safe = dataclasses.replace(base, kind="safe", prefix=f"{topic_name}:safe:")
        assert (naive.group, safe.group) == ("ledger-naive", "ledger-safe")
        # Groups of this test's own, so a demo running on the same stack is not rebalanced.
        naive = dataclasses.replace(naive, group_id=f"{topic_name}-naive")
        safe = dataclasses.replace(safe, group_id=f"{topic_name}-safe")
        async with running(naive) as left, running(safe) as right:
            counts = await asyncio.gather(
                left.wait_processed(len(deliveries), timeout_s=60),
                right.wait_processed(len(deliveries), timeout_s=60),
            )
        assert list(counts) == [len(deliveries), len(deliveries)]
        redis = Redis.from_url(redis_url)
        try:
            assert await paid(redis, Keys(naive.key_prefix), "c-01") == 2 * 1004 + 2 * 250
            assert await paid(redis, Keys(safe.key_prefix), "c-01") == 1004 + 250
        finally:
            await redis.aclose()
