"""The route loop with at-least-once delivery over the in-memory transport
(`streams.memory`), no broker."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from aiokafka import TopicPartition

from chaosbus.clients.connection import KafkaSettings
from chaosbus.contracts.ledger_record import decode_ledger
from chaosbus.contracts.routes import Route
from chaosbus.streams.at_least_once import AtLeastOnce
from chaosbus.streams.config import InterposerConfig
from chaosbus.streams.decider import PassThrough
from chaosbus.streams.delivery import RouteContext
from chaosbus.streams.interposer import RouteInterposer
from chaosbus.streams.memory import MemoryCluster, MemoryProducer
from chaosbus.streams.undeliverable import RouteFailed
from chaosbus.testing import poll_until

SRC = TopicPartition("src", 0)


def cluster_with(count: int, large_at: int | None = None, **destination: object) -> MemoryCluster:
    cluster = MemoryCluster()
    cluster.create("src", 1)
    cluster.create("dst", 1, **destination)
    cluster.create("dlq", 1)
    cluster.create("ledger", 3)
    for i in range(count):
        value = b"x" * 20_000 if i == large_at else f"m{i:04d}".encode()
        cluster.append("src", 0, f"k{i % 3}".encode(), value)
    return cluster


def interposer(
    cluster: MemoryCluster, route: Route, *, limit: int | None = None, **config: object
) -> RouteInterposer:
    settings = InterposerConfig(
        kafka=KafkaSettings("memory"),
        run_id="r",
        group_id="g",
        ledger_topic="ledger",
        **config,  # type: ignore[arg-type]
    )
    context = RouteContext(route, settings, keep_partition=True, max_message_bytes=limit)
    delivery = AtLeastOnce(
        context,
        MemoryProducer(cluster),
        producer_factory=cluster.producer_factory(),
    )
    return RouteInterposer(
        context, PassThrough(), delivery, consumer_factory=cluster.consumer_factory()
    )


async def until(predicate: Callable[[], bool], timeout_s: float = 5) -> None:
    # The loop runs as another task: its counters are read between its turns.
    reached = await poll_until(predicate, bool, timeout_s=timeout_s, every_s=0.01)
    assert reached, "condition not reached"


class TestRouteLoop:
    async def test_forwards_ledgers_and_commits_everything(self) -> None:
        """50 messages arrive in order, each with its ledger record, committed at 50."""
        cluster = cluster_with(50)
        loop = interposer(cluster, Route("src", "dst"))
        stopping = asyncio.Event()
        task = asyncio.create_task(loop.run(stopping))
        await until(lambda: cluster.committed["g"].get(SRC) == 50)
        stopping.set()
        await task
        assert cluster.values("dst") == cluster.values("src")
        ledgered = [
            record.offset
            for p in range(3)
            for message in cluster.topics["ledger"].records[p]
            for record in decode_ledger(message.value or b"")
        ]
        assert (sorted(ledgered), loop.counts["pass"], loop.in_flight) == (list(range(50)), 50, 0)

    async def test_backpressure_counts_what_is_never_acknowledged(self) -> None:
        """A destination that never answers: reading pauses at 100 messages in flight."""
        cluster = cluster_with(5_000, acknowledging=False)
        loop = interposer(cluster, Route("src", "dst"), max_held_messages=100, max_batch=50)
        stopping = asyncio.Event()
        task = asyncio.create_task(loop.run(stopping))
        await until(lambda: loop.counts["backpressure_pauses"] == 1)
        assert loop.in_flight == 100
        assert loop.held == 0
        assert loop.held_bytes > 0
        stopping.set()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert cluster.committed["g"].get(SRC, 0) == 0

    async def test_fail_stops_before_the_refused_message(self) -> None:
        """Ten small, one too large, ten small: RouteFailed names offset 10; ten arrived,
        committed at 10."""
        cluster = cluster_with(21, large_at=10, max_message_bytes=2_000)
        loop = interposer(cluster, Route("src", "dst"), limit=2_000)
        with pytest.raises(RouteFailed, match="src partition 0 offset 10: MESSAGE_TOO_LARGE"):
            await asyncio.wait_for(loop.run(asyncio.Event()), 5)
        assert cluster.values("dst") == cluster.values("src")[:10]
        assert cluster.committed["g"][SRC] == 10

    async def test_a_refused_batch_is_split_and_the_guilty_one_dead_lettered(self) -> None:
        """The limit is unknown to the loop: the broker refuses the batch, its records go
        again one by one, twenty arrive in order and the large one is dead-lettered."""
        cluster = cluster_with(21, large_at=10, max_message_bytes=2_000)
        loop = interposer(cluster, Route("src", "dst", dead_letter="dlq"))
        stopping = asyncio.Event()
        task = asyncio.create_task(loop.run(stopping))
        await until(lambda: cluster.committed["g"].get(SRC) == 21)
        stopping.set()
        await task
        source = cluster.values("src")
        assert cluster.values("dst") == source[:10] + source[11:]
        assert cluster.values("dlq") == [source[10]]
        assert (loop.counts["undeliverable"], loop.counts["split"]) == (1, 21)
