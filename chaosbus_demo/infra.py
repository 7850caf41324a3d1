"""What the demo starts outside its own process: the local stack (when needed) and Node-RED.

Each is an async context manager that stops on exit exactly what it started: a local stack
that was already running is used and left running; Node-RED runs in a session of its own
(a Ctrl-C in the terminal does not reach it), so it is stopped here explicitly.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TypeVar

from aiokafka import TopicPartition

from chaosbus.clients.connection import KafkaSettings, why_unreachable
from chaosbus.clients.consumers import standalone_consumer, topic_end_offsets
from chaosbus.clients.errors import ClientError
from chaosbus.clients.redaction import redact_url
from chaosbus.clients.redis_client import ping_failure
from chaosbus.errors import InvalidInput, Unreachable
from chaosbus.local.kafka_node import broker_answers
from chaosbus.local.stack import LocalStack
from chaosbus.settings import resolve_kafka, resolve_topic_policy
from chaosbus.streams.errors import StreamError
from chaosbus.streams.topics import TopicAdmin
from chaosbus_demo import nodered

Say = Callable[[str], None]
T = TypeVar("T")
TOPIC_VISIBLE_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Addresses:
    kafka: KafkaSettings
    redis_url: str = field(repr=False)  # may carry a password


@asynccontextmanager
async def broker_and_redis(
    bootstrap: str | None,
    redis_url: str | None,
    *,
    say: Say,
    stack: LocalStack | None = None,
    kafka_config: Path | None = None,
) -> AsyncIterator[Addresses]:
    """The given broker and Redis, or the local stack (started, and later stopped, if down)."""
    if bootstrap or redis_url or kafka_config:
        if not ((bootstrap or kafka_config) and redis_url):
            raise InvalidInput(
                "give --redis with --bootstrap or --kafka-config, or none of them (the demo "
                "then starts the local stack)"
            )
        kafka = resolve_kafka(bootstrap, kafka_config)
        await require_reachable(kafka, redis_url)
        yield Addresses(kafka, redis_url)
        return
    local = stack or LocalStack.default()
    before = await asyncio.to_thread(local.status)
    if before.kafka_running and before.redis_running:
        say(
            f"using the running local stack: Kafka {before.bootstrap}, "
            f"Redis {redact_url(before.redis_url)}"
        )
        yield Addresses(KafkaSettings(before.bootstrap), before.redis_url)
        return
    say("starting the local stack (Kafka 4.1 and redis-server on loopback)")
    try:
        status = await to_the_end(local.up)
        say(f"local stack up: Kafka {status.bootstrap}, Redis {redact_url(status.redis_url)}")
        yield Addresses(KafkaSettings(status.bootstrap), status.redis_url)
    finally:
        if not before.kafka_running:
            await asyncio.to_thread(local.kafka().stop)
        if not before.redis_running:
            await asyncio.to_thread(local.redis().stop)
        say("local stack stopped (the demo started it)")


async def require_reachable(kafka: KafkaSettings, redis_url: str) -> None:
    if not await broker_answers(kafka):
        raise Unreachable(str(await why_unreachable(kafka)))
    failure = await ping_failure(redis_url)
    if failure is not None:  # names a refused password or an untrusted certificate
        raise Unreachable(failure)


async def create_topics(kafka: KafkaSettings, topics: list[str], partitions: int) -> None:
    """Create the topics and return once the broker describes every one of them."""
    try:
        async with TopicAdmin(kafka) as admin:
            # The demo's topics follow the internal topics' replication setting, if any.
            replication = resolve_topic_policy().replication_factor
            for topic in topics:
                await admin.create(topic, partitions, replication_factor=replication)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + TOPIC_VISIBLE_TIMEOUT_S
            while set(topics) - (await admin.partition_counts(topics)).keys():
                if loop.time() >= deadline:
                    raise Unreachable(f"topics {topics} were created but never became visible")
                # Topic metadata propagates in the broker's own time: there is no event to await.
                await asyncio.sleep(0.1)
    except (StreamError, ClientError) as exc:
        raise Unreachable(str(exc)) from exc


async def start_group_at_end(kafka: KafkaSettings, topic: str, group_id: str) -> None:
    """Commit `group_id` at the end of `topic`: the experiment that group runs judges the
    traffic sent from now on, not the backlog the experiments before it were judged on
    (catching up on it inside a short warm-up would fail the steady state on a busy host)."""
    async with standalone_consumer(kafka, group_id=group_id) as consumer:
        ends = {
            TopicPartition(topic, partition): offset
            for partition, offset in (await topic_end_offsets(consumer, topic)).items()
        }
        if ends:
            consumer.assign(list(ends))
            await consumer.commit(ends)


@asynccontextmanager
async def node_red_running(
    *,
    kafka: KafkaSettings,
    topic: str,
    say: Say,
    install_dir: Path | None = None,
    name: str = "demo",
) -> AsyncIterator[nodered.NodeRed]:
    """Install (once) and start the Node-RED flow publishing to `topic`; stop it on exit.

    Its home is a temporary directory named `chaosbus-{name}-node-red-*`: the name shows in
    the process's command line, so a leftover process would say which run it belongs to.
    """
    with tempfile.TemporaryDirectory(prefix=f"chaosbus-{name}-node-red-") as home:
        try:
            await to_the_end(partial(nodered.install, install_dir, progress=say))
            yield await to_the_end(
                partial(
                    nodered.start,
                    bootstrap=kafka.bootstrap,
                    kafka=kafka,
                    home=Path(home),
                    topic=topic,
                    install_dir=install_dir,
                    progress=say,
                )
            )
        finally:
            # By its home's pid file, so a start that was interrupted is stopped as well.
            if await asyncio.to_thread(nodered.stop, Path(home)):
                say("Node-RED stopped")


async def to_the_end(call: Callable[[], T]) -> T:
    """Run a blocking start-up call in a thread and wait for it even when cancelled.

    A thread cannot be stopped half-way: returning early would leave a process starting
    behind the caller's back, started after the caller's clean-up ran. Waiting for it means
    the clean-up finds (and stops) whatever it started.
    """
    future = asyncio.ensure_future(asyncio.to_thread(call))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await future
        raise
