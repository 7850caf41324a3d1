"""Every Kafka client the interposer builds for a route, built here and only here.

One place for connection settings (addresses, security) to reach all of them: the group
consumer of a route, the shared idempotent producer, the transactional producers of
exactly-once mode.
"""

from __future__ import annotations

import asyncio
import logging

from aiokafka import AIOKafkaProducer

from chaosbus.clients.consumers import KafkaConsumer
from chaosbus.streams.config import InterposerConfig

log = logging.getLogger(__name__)

PRODUCER_BATCH_BYTES = 256 * 1024
STOP_TIMEOUT_S = 10.0
# None: aiokafka's sender keeps one produce request in flight per broker and drains every
# partition's waiting batch into the next one, so batches form while a request is out; a
# linger only holds back the first batch after an idle moment (decision 0150). A turn's
# records go out as whole batches already (streams.batches).
PRODUCER_LINGER_MS = 0


def group_consumer(config: InterposerConfig) -> KafkaConsumer:
    """A route's consumer: in the replicas' group, committing by hand, reading committed data."""
    return KafkaConsumer(
        **config.kafka.client_options(),
        group_id=config.group_id,
        # The marker by which preflight recognises another interposer on a source topic.
        client_id="chaosbus-interposer",
        enable_auto_commit=False,
        auto_offset_reset=config.start_from,
        isolation_level="read_committed",
    )


def route_producer(config: InterposerConfig) -> AIOKafkaProducer:
    """The idempotent producer at-least-once routes share."""
    return AIOKafkaProducer(
        **config.kafka.client_options(),
        enable_idempotence=True,
        linger_ms=PRODUCER_LINGER_MS,
        max_batch_size=PRODUCER_BATCH_BYTES,
        max_request_size=config.max_request_size,
        compression_type=config.compression,
    )


def transactional_producer(config: InterposerConfig, transactional_id: str) -> AIOKafkaProducer:
    """An exactly-once producer of one input partition."""
    return AIOKafkaProducer(
        **config.kafka.client_options(),
        transactional_id=transactional_id,
        enable_idempotence=True,
        linger_ms=PRODUCER_LINGER_MS,
        max_batch_size=PRODUCER_BATCH_BYTES,
        max_request_size=config.max_request_size,
        compression_type=config.compression,
    )


async def stop_producer(producer: AIOKafkaProducer, timeout_s: float = STOP_TIMEOUT_S) -> None:
    """Stop within a bound: after a refused batch aiokafka's sender can die with batches it
    never resolves (OutOfOrderSequenceNumber), and `stop()` would wait for them forever.
    What they carried is unacknowledged, so uncommitted, and read again."""
    try:
        await asyncio.wait_for(producer.stop(), timeout_s)
    except TimeoutError:
        log.warning(
            "a producer did not stop within %.0f s; its unacknowledged sends are dropped", timeout_s
        )
