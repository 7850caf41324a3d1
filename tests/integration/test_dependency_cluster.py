"""Chaos on chaosbus: a three-broker cluster loses its active controller in a live run.

The cluster is this module's own (`chaosbus local up --brokers 3` machinery, as
test_cluster starts one): each node is broker and controller, topics have three replicas
and `min.insync.replicas=2`, so one node may go. The node killed (SIGKILL, no controlled
shutdown) is the KRaft quorum's leader, read from the nodes' `quorum-state` files.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator

import pytest
from aiokafka import AIOKafkaConsumer

from chaosbus.clients.connection import KafkaSettings
from chaosbus.local.kafka_node import KafkaNode
from chaosbus.local.stack import LocalStack, default_cache
from chaosbus.runner import ExperimentRun
from chaosbus.testing import create_topics, free_port_pair, free_port_run, poll_until
from chaosbus_demo.traffic import KafkaSink, order_events
from tests.dependency_cases import CASES
from tests.integration.dependency_support import (
    Phases,
    agreement,
    one_line,
    persistent_traffic,
    restarting_service,
)
from tests.integration.runner_support import make_stage

pytestmark = pytest.mark.integration

FAULTS = [
    {"name": "retries", "type": "duplicate", "probability": 0.3, "copies": 1},
    {
        "name": "late",
        "type": "delay",
        "probability": 0.3,
        "distribution": {"kind": "fixed", "ms": 2_000},
    },
]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """A private three-node cluster and Redis: killing a node disturbs no other test."""
    stack = LocalStack(
        home=tmp_path_factory.mktemp("dependency-cluster"),
        cache=default_cache(),
        kafka_port=free_port_run(6),
        redis_port=free_port_pair(),
        brokers=3,
    )
    started = time.monotonic()
    stack.up()
    asyncio.run(warm_up(stack.bootstrap))
    print(f"\nthree-node cluster up and warm in {time.monotonic() - started:.0f} s")
    try:
        yield stack
    finally:
        stack.down()


async def warm_up(bootstrap: str) -> None:
    """A first idempotent producer and a first consumer group: a fresh cluster creates
    its internal topics for them (three replicas each), which takes seconds the run's
    schedule should not pay."""
    kafka = KafkaSettings(bootstrap)
    await create_topics(bootstrap, ["warm-up"], 1)
    async with KafkaSink(kafka, "warm-up") as sink:
        await sink.send(order_events(1, seed=1)[0])
    consumer = AIOKafkaConsumer(
        "warm-up", **kafka.client_options(), group_id="warm-up", auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        await consumer.getmany(timeout_ms=10_000)
        await consumer.commit()
    finally:
        await consumer.stop()


def quorum_leader(node: KafkaNode) -> int | None:
    """The controller quorum's leader as this node last recorded it (KRaft's quorum-state)."""
    path = node.data_dir / "__cluster_metadata-0" / "quorum-state"
    try:
        leader = json.loads(path.read_text()).get("leaderId", -1)
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return leader if isinstance(leader, int) and leader >= 0 else None


def active_controller(stack: LocalStack) -> KafkaNode:
    nodes = stack.kafka_nodes()
    leaders = {quorum_leader(node) for node in nodes} - {None}
    assert len(leaders) == 1, f"the nodes do not agree on a quorum leader: {leaders}"
    leader = leaders.pop()
    return next(node for node in nodes if node.node_id == leader)


class TestControllerLost:
    async def test_the_run_goes_on_without_its_controller(self, cluster: LocalStack) -> None:
        """SIGKILL of the active controller mid-injection: the quorum elects another, the
        clients find the new leaders, everything is read; the run may hold, nothing lost."""
        case = CASES["controller-lost"]
        status = cluster.status()
        stage = await make_stage(status.bootstrap, status.redis_url, f"dep-ctl-{time.time_ns()}")
        spec = stage.spec(
            "duplicate-storm",
            # A dead leader's partitions move once the new controller fences the node
            # (broker.session.timeout.ms, 9 s): the recovery outlasts it.
            schedule={"warmup_s": 1, "inject_s": 5, "recover_s": 30},
            faults=FAULTS,
        )
        phases, go = Phases(), asyncio.Event()
        run = ExperimentRun(spec, stage.options(on_progress=phases))
        async with restarting_service(stage), persistent_traffic(stage, go) as sent:
            running_run = asyncio.create_task(run.run())
            await phases.reached("inject", timeout_s=120)
            go.set()
            await phases.until(lambda p: p.faults > 10 and p.held > 0)
            victim = active_controller(cluster)
            assert await asyncio.to_thread(victim.kill)
            others = [n for n in cluster.kafka_nodes() if n is not victim]
            # The survivors record a new leader of their own (an election takes a moment).
            await poll_until(
                lambda: {quorum_leader(n) for n in others},
                lambda leaders: len(leaders) == 1 and victim.node_id not in leaders,
                timeout_s=30,
            )
            report = await running_run
            assert await sent == 150
        agreed = await agreement(stage, run.run_id)
        reason = one_line(report)
        print(f"\n{case.key}: node {victim.node_id} killed; {report.status} {reason}; {agreed}")
        assert report.status == case.status, reason
        assert report.reads is not None
        assert report.reads.unread() == []
        assert agreed.undecided == 0
        assert sum(report.faults.values()) == agreed.decided == 150
