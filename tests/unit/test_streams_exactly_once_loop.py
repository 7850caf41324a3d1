"""The route loop with exactly-once delivery over the in-memory transport (`streams.memory`):
transactions, and what the loop does when the client cancels a send future under it."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import TopicPartition

from chaosbus.clients.connection import KafkaSettings
from chaosbus.contracts.ledger_record import decode_ledger
from chaosbus.contracts.routes import Route
from chaosbus.streams.config import InterposerConfig
from chaosbus.streams.decider import PassThrough
from chaosbus.streams.delivery import RouteContext
from chaosbus.streams.exactly_once.delivery import ExactlyOnce
from chaosbus.streams.interposer import RouteInterposer
from chaosbus.streams.memory import MemoryCluster, MemoryParkedStore
from chaosbus.testing import poll_until

SRC = TopicPartition("src", 0)
COUNT = 30


def cluster_with(count: int, **destination: int) -> MemoryCluster:
    cluster = MemoryCluster()
    cluster.create("src", 1)
    cluster.create("dst", 1, **destination)
    cluster.create("ledger", 1)
    for i in range(count):
        cluster.append("src", 0, f"k{i % 3}".encode(), f"m{i:04d}".encode())
    return cluster


def exactly_once(cluster: MemoryCluster) -> RouteInterposer:
    settings = InterposerConfig(
        kafka=KafkaSettings("memory"),
        run_id="r",
        group_id="g",
        ledger_topic="ledger",
    )
    context = RouteContext(Route("src", "dst"), settings, keep_partition=True)
    delivery = ExactlyOnce(
        context,
        producer_factory=cluster.transactional_factory(),
        parked_store=MemoryParkedStore(cluster),
    )
    return RouteInterposer(
        context, PassThrough(), delivery, consumer_factory=cluster.consumer_factory()
    )


async def run_until_committed(cluster: MemoryCluster, loop: RouteInterposer) -> None:
    stopping = asyncio.Event()
    task = asyncio.create_task(loop.run(stopping))
    # The loop runs as another task: the committed offset is read between its turns.
    committed = await poll_until(
        lambda: cluster.committed["g"].get(SRC), lambda at: at == COUNT, timeout_s=5, every_s=0.01
    )
    stopping.set()
    await asyncio.wait_for(task, 5)
    assert committed == COUNT


def ledgered(cluster: MemoryCluster) -> list[int]:
    return sorted(
        record.offset
        for message in cluster.topics["ledger"].records[0]
        for record in decode_ledger(message.value or b"")
    )


class TestExactlyOnceLoop:
    async def test_forwards_ledgers_and_commits_in_transactions(self) -> None:
        """30 messages arrive once each, in order, each with one ledger record; the
        transaction commits the source offset at 30 and nothing is aborted."""
        cluster = cluster_with(COUNT)
        loop = exactly_once(cluster)
        await run_until_committed(cluster, loop)
        assert cluster.values("dst") == cluster.values("src")
        assert ledgered(cluster) == list(range(COUNT))
        assert (loop.counts["pass"], loop.counts["aborted"]) == (COUNT, 0)

    async def test_a_send_future_the_client_cancels_aborts_and_retries(self) -> None:
        """The client hands back a cancelled future for the first send (a broker killed
        under it): the transaction aborts once and is retried, the route task goes on, and
        every message still arrives exactly once with its one ledger record."""
        cluster = cluster_with(COUNT, cancelled_sends=1)
        loop = exactly_once(cluster)
        await run_until_committed(cluster, loop)
        assert cluster.values("dst") == cluster.values("src")
        assert ledgered(cluster) == list(range(COUNT))
        # The aborted turn's decisions are taken back; the retried turn decides them again.
        assert (loop.counts["pass"], loop.counts["aborted"]) == (COUNT, 1)

    async def test_the_task_s_own_cancellation_still_stops_the_route(self) -> None:
        """Cancelling the route task itself ends it with CancelledError, nothing committed
        past what its transactions committed."""
        cluster = cluster_with(COUNT, cancelled_sends=1_000_000)
        loop = exactly_once(cluster)
        task = asyncio.create_task(loop.run(asyncio.Event()))
        # Every transaction aborts on a cancelled send; wait until some have.
        await poll_until(lambda: loop.counts["aborted"], lambda n: n >= 3, timeout_s=5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert cluster.values("dst") == []
        assert cluster.committed["g"].get(SRC) is None
