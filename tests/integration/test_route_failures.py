"""What goes wrong around a route on the real broker, and what the runtime does about it.

A refused batch is split to find the guilty record; a failed drain on revoke does not stop
commits on the partitions still owned; the kill switch does not wait for a blocked turn;
an exactly-once partition whose parked set cannot be read stops and retries, never skips.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaTimeoutError

from chaosbus.clients.connection import KafkaSettings
from chaosbus.contracts.routes import Route
from chaosbus.injectors.plan import FaultPlan
from chaosbus.injectors.spec import BlastRadius, DelayFault, FixedDelay
from chaosbus.streams.at_least_once import AtLeastOnce
from chaosbus.streams.config import InterposerConfig
from chaosbus.streams.exactly_once.delivery import ExactlyOnce
from chaosbus.streams.exactly_once.parked import parked_topic
from chaosbus.streams.exactly_once.parked_store import ensure_parked_topic
from chaosbus.streams.proxy import Proxy
from chaosbus.streams.topics import TopicAdmin, TopicPolicy
from chaosbus.testing import (
    Message,
    committed_offsets,
    poll_until,
    produce,
    read_all,
    wait_for_count,
)

pytestmark = pytest.mark.integration


async def until(predicate: Callable[[], Awaitable[bool]], timeout_s: float) -> None:
    # Another task's or process's progress: nothing to await but its state.
    if not await poll_until(predicate, bool, timeout_s=timeout_s, every_s=0.1):
        raise TimeoutError("condition not reached")


def numbered(start: int, count: int, partition: int | None = None) -> list[Message]:
    return [
        Message(key=f"k{i % 4}".encode(), value=f"v{i:04d}".encode(), partition=partition)
        for i in range(start, start + count)
    ]


class TestRefusedBatch:
    async def test_a_refused_batch_is_split_and_only_the_guilty_record_is_dead_lettered(
        self, bootstrap: str, topic_name: str
    ) -> None:
        """The limit shrinks after the proxy checked it: the broker refuses what carries the
        large record (a batch is split to find it), the innocent ones arrive in order through
        a fresh producer, the large one is dead-lettered."""
        source, destination, dead = (f"{topic_name}.{s}" for s in ("src", "dst", "dlq"))
        async with TopicAdmin(KafkaSettings(bootstrap)) as admin:
            for topic in (source, destination, dead):
                await admin.create(topic, 1)
        route = Route(source, destination, dead_letter=dead)
        config = InterposerConfig(
            kafka=KafkaSettings(bootstrap), run_id="split", group_id=f"g-{topic_name}"
        )
        proxy = Proxy([route], config)
        stopping = asyncio.Event()
        task = asyncio.create_task(proxy.run(stopping))
        await proxy.started.wait()
        async with TopicAdmin(KafkaSettings(bootstrap)) as admin:
            await admin._admin.alter_configs(
                [
                    ConfigResource(
                        ConfigResourceType.TOPIC, destination, {"max.message.bytes": "2000"}
                    )
                ]
            )
        batch = [*numbered(0, 10), Message(key=b"big", value=b"x" * 20_000), *numbered(10, 10)]
        await produce(bootstrap, source, batch)
        got = await wait_for_count(bootstrap, dead, 1, timeout_s=60)
        assert got == 1, [dict(r.headers) for r in await read_all(bootstrap, dead)][:3]
        assert await wait_for_count(bootstrap, destination, 20, timeout_s=30) == 20
        stopping.set()
        report = await task

        forwarded = await read_all(bootstrap, destination)
        assert [r.value for r in forwarded] == [m.value for m in batch if m.key != b"big"]
        [letter] = await read_all(bootstrap, dead)
        assert letter.value == b"x" * 20_000
        assert report.counts["undeliverable"] == 1


class TestRevokeDrainFailure:
    async def test_commits_go_on_for_the_partitions_still_owned(
        self, bootstrap: str, topic_name: str
    ) -> None:
        """The drain on revoke raises; the partition kept after the rebalance still commits."""
        source, destination = f"{topic_name}.src", f"{topic_name}.dst"
        group = f"g-{topic_name}"
        async with TopicAdmin(KafkaSettings(bootstrap)) as admin:
            await admin.create(source, 2)
            await admin.create(destination, 2)
        config = InterposerConfig(
            kafka=KafkaSettings(bootstrap), run_id="revoke", group_id=group, commit_interval_ms=100
        )
        proxy = Proxy([Route(source, destination)], config)
        stopping = asyncio.Event()
        task = asyncio.create_task(proxy.run(stopping))
        await proxy.started.wait()
        [interposer] = proxy.interposers
        delivery = interposer.delivery
        assert isinstance(delivery, AtLeastOnce)

        async def owned() -> bool:
            consumer = interposer._consumer
            return consumer is not None and len(consumer.assignment()) == 2

        await until(owned, 30)
        real_drain = delivery._await_and_commit

        async def failing_drain() -> None:
            delivery._await_and_commit = real_drain  # type: ignore[method-assign]
            raise KafkaTimeoutError("a send waited more than 40 s")

        delivery._await_and_commit = failing_drain  # type: ignore[method-assign]
        other = AIOKafkaConsumer(
            source,
            **KafkaSettings(bootstrap).client_options(),
            group_id=group,
            enable_auto_commit=False,
        )
        await other.start()
        try:

            async def split() -> bool:
                consumer = interposer._consumer
                return consumer is not None and len(consumer.assignment()) == 1

            await until(split, 60)
            assert interposer._consumer is not None
            [kept] = interposer._consumer.assignment()
            await produce(bootstrap, source, numbered(0, 50, kept.partition))

            async def committed() -> bool:
                offsets = await committed_offsets(bootstrap, group)
                return offsets.get((source, kept.partition)) == 50

            await until(committed, 30)
        finally:
            stopping.set()
            await task
            await other.stop()
        offsets = await committed_offsets(bootstrap, group)
        assert offsets == {(source, kept.partition): 50}


class TestKillSwitchWhileBlocked:
    async def test_decisions_stop_within_a_second_while_the_turn_holds_the_lock(
        self, bootstrap: str, topic_name: str
    ) -> None:
        """With the route's lock held (a turn blocked on a dead broker), `set_injecting(False)`
        returns at once and the plan passes; the held copies come out once the turn ends."""
        source, destination = f"{topic_name}.src", f"{topic_name}.dst"
        async with TopicAdmin(KafkaSettings(bootstrap)) as admin:
            await admin.create(source, 1)
            await admin.create(destination, 1)
        route = Route(source, destination)
        plan = FaultPlan(
            [DelayFault(probability=1.0, distribution=FixedDelay(ms=120_000))], BlastRadius(), 1
        )
        config = InterposerConfig(
            kafka=KafkaSettings(bootstrap), run_id="kill", group_id=f"g-{topic_name}"
        )
        proxy = Proxy([route], config, deciders={route: plan})
        stopping = asyncio.Event()
        task = asyncio.create_task(proxy.run(stopping))
        await proxy.started.wait()
        [interposer] = proxy.interposers
        await produce(bootstrap, source, numbered(0, 20))

        async def all_held() -> bool:
            return interposer.held == 20

        await until(all_held, 30)
        async with interposer._lock:
            await asyncio.wait_for(interposer.set_injecting(False), timeout=1.0)
            assert plan.enabled is False
            assert interposer.held == 20  # nothing moves while the turn is blocked
        assert await wait_for_count(bootstrap, destination, 20, timeout_s=10) == 20
        stopping.set()
        await task
        assert interposer.held == 0


class TestExactlyOnceRebuild:
    async def test_an_unreadable_parked_record_stops_its_partition_until_it_is_fixed(
        self, bootstrap: str, topic_name: str
    ) -> None:
        """Partition 0's parked record does not parse: partition 1 flows, partition 0 is not
        read or committed, and once the record is removed it resumes; nothing is skipped."""
        source, destination = f"{topic_name}.src", f"{topic_name}.dst"
        group = f"g-{topic_name}"
        async with TopicAdmin(KafkaSettings(bootstrap)) as admin:
            await admin.create(source, 2)
            await admin.create(destination, 2)
        parked = parked_topic(group)
        await ensure_parked_topic(KafkaSettings(bootstrap), parked, TopicPolicy())
        broken_key = f"{source}/0/0".encode()
        await produce(bootstrap, parked, [Message(key=broken_key, value=b"not a parked record")])
        await produce(bootstrap, source, numbered(0, 10, 0) + numbered(10, 10, 1))

        config = InterposerConfig(kafka=KafkaSettings(bootstrap), run_id="rebuild", group_id=group)
        proxy = Proxy([Route(source, destination)], config, delivery="exactly-once")
        stopping = asyncio.Event()
        task = asyncio.create_task(proxy.run(stopping))
        try:

            async def partition_one_done() -> bool:
                offsets = await committed_offsets(bootstrap, group)
                return offsets.get((source, 1)) == 10

            await until(partition_one_done, 60)
            [interposer] = proxy.interposers
            assert isinstance(interposer.delivery, ExactlyOnce)
            assert interposer.counts["rebuild_failed"] >= 1
            assert (source, 0) not in await committed_offsets(bootstrap, group)
            assert {r.partition for r in await read_all(bootstrap, destination)} == {1}

            await produce(bootstrap, parked, [Message(key=broken_key, value=None)])

            async def all_done() -> bool:
                offsets = await committed_offsets(bootstrap, group)
                return offsets == {(source, 0): 10, (source, 1): 10}

            await until(all_done, 60)
        finally:
            stopping.set()
            await task
        forwarded = await read_all(bootstrap, destination)
        assert sorted(r.value or b"" for r in forwarded) == sorted(
            m.value or b"" for m in numbered(0, 20)
        )
