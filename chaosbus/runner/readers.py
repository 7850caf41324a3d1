"""Kafka readers of a run: the source topic from where the interposer starts, and the ledger.

Each is an async context manager running one task that feeds a callback the records read, as
envelopes (`contracts.records.envelope_of`, poison input counted in `poison`); both read with
a group-less consumer on explicit positions, so the monitors never disturb the interposer's
consumer group.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from chaosbus.clients.connection import KafkaSettings
from chaosbus.clients.consumers import KafkaConsumer
from chaosbus.contracts.ledger_record import LedgerRecord, decode_ledger
from chaosbus.contracts.records import envelope_of
from chaosbus.injectors.envelope import Envelope

log = logging.getLogger(__name__)


async def start_positions(kafka: KafkaSettings, topic: str, group_id: str) -> dict[int, int]:
    """Where the interposer's group will start on each partition: committed, else earliest."""
    consumer = KafkaConsumer(**kafka.client_options(), group_id=group_id, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = await _partitions(consumer, topic)
        beginnings = await consumer.beginning_offsets(tps)
        positions: dict[int, int] = {}
        for tp in tps:
            committed = await consumer.committed(tp)
            positions[tp.partition] = committed if committed is not None else beginnings[tp]
        return positions
    finally:
        await consumer.stop()


async def end_positions(kafka: KafkaSettings, topic: str) -> dict[int, int]:
    consumer = KafkaConsumer(**kafka.client_options(), enable_auto_commit=False)
    try:
        # Inside the `try`: a start that fails (no broker answers) still closes the client.
        await consumer.start()
        tps = await _partitions(consumer, topic)
        ends = await consumer.end_offsets(tps) if tps else {}
        return {tp.partition: offset for tp, offset in ends.items()}
    finally:
        await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
    partitions = consumer.partitions_for_topic(topic)
    if not partitions:
        # A fresh client knows no topic until it asks; aiokafka offers no public call for it.
        await consumer._client.force_metadata_update()
        partitions = consumer.partitions_for_topic(topic)
    return [TopicPartition(topic, p) for p in sorted(partitions or ())]


class TopicReader:
    """Reads `topic` from `positions` on, handing each record to `handle` as an envelope,
    until closed. `consumer_factory` builds the group-less consumer (aiokafka's by default;
    the in-memory transport's in unit tests)."""

    def __init__(
        self,
        kafka: KafkaSettings,
        topic: str,
        positions: dict[int, int],
        handle: Callable[[Envelope], None],
        *,
        consumer_factory: Callable[[KafkaSettings], Any] | None = None,
    ) -> None:
        self.topic = topic
        self._kafka = kafka
        self._positions = positions
        self._handle = handle
        self._consumer_factory = consumer_factory or _reading_consumer
        self._task: asyncio.Task[None] | None = None
        self._consumer: Any = None
        self.read = 0
        # Tombstones, keyless records, null headers, large values among what was read.
        self.poison: Counter[str] = Counter()

    async def __aenter__(self) -> TopicReader:
        consumer = self._consumer_factory(self._kafka)
        await consumer.start()
        tps = {TopicPartition(self.topic, p): offset for p, offset in self._positions.items()}
        consumer.assign(list(tps))
        for tp, offset in tps.items():
            consumer.seek(tp, offset)
        self._consumer = consumer
        self._task = asyncio.create_task(self._loop(consumer), name=f"reader-{self.topic}")
        return self

    async def positions(self) -> dict[int, int]:
        """The next offset to read on each partition (past transaction markers too)."""
        consumer = self._consumer
        if consumer is None:
            return dict(self._positions)
        return {p: await consumer.position(TopicPartition(self.topic, p)) for p in self._positions}

    async def __aexit__(self, *_: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer is not None:
            # A broker away when the run ends does not end it with aiokafka's own
            # cancellation (clients.consumers.KafkaConsumer).
            await self._consumer.stop()

    async def _loop(self, consumer: Any) -> None:
        while True:
            try:
                batches = await consumer.getmany(timeout_ms=100, max_records=5_000)
            except KafkaError as exc:
                log.warning("reading %s: %s; retrying", self.topic, exc)
                await asyncio.sleep(0.2)
                continue
            for records in batches.values():
                for record in records:
                    self.read += 1
                    self._handle(envelope_of(record, self.poison))


def _reading_consumer(kafka: KafkaSettings) -> KafkaConsumer:
    return KafkaConsumer(
        **kafka.client_options(),
        enable_auto_commit=False,
        isolation_level="read_committed",
    )


def ledger_handler(run_id: str, feed: Callable[[LedgerRecord], None]) -> Callable[[Envelope], None]:
    """Parse ledger messages and pass on this run's records (a run of passes as its
    individual records); other runs share the topic."""

    def handle(record: Envelope) -> None:
        try:
            decoded = decode_ledger(record.value or b"")
        except ValueError:
            log.warning("unreadable ledger record at offset %s", record.source.offset)
            return
        for parsed in decoded:
            if parsed.run_id == run_id:
                feed(parsed)

    return handle
