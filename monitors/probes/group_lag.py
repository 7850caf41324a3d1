"""Samples a consumer group's committed offsets and a topic's end offsets (Kafka admin API).

Read-only: the admin client lists the group's offsets, a group-less consumer asks for the
ends; neither joins nor disturbs the service's group. A partition the group has not
committed yet counts from the topic's beginning (where an `earliest` consumer starts).
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from chaosbus.clients.connection import KafkaSettings
from chaosbus.clients.consumers import KafkaConsumer
from chaosbus.monitors.errors import ReaderError
from chaosbus.monitors.lag import LagSample


class GroupLagReader:
    """`async with GroupLagReader(kafka, group, topic) as r: await r.sample(now_ms)`."""

    def __init__(self, kafka: KafkaSettings, group: str, topic: str) -> None:
        self.group = group
        self.topic = topic
        self._kafka = kafka
        self._admin: AIOKafkaAdminClient | None = None
        self._consumer: KafkaConsumer | None = None

    async def __aenter__(self) -> Self:
        try:
            self._admin = AIOKafkaAdminClient(**self._kafka.client_options())
            await self._admin.start()
            self._consumer = KafkaConsumer(**self._kafka.client_options(), enable_auto_commit=False)
            await self._consumer.start()
        except KafkaError as exc:
            await self.__aexit__(None, None, None)
            raise ReaderError(f"group lag of {self.group}: {exc}", retriable=True) from exc
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._consumer is not None:
            await self._consumer.stop()  # never aiokafka's own cancellation
            self._consumer = None
        if self._admin is not None:
            await self._admin.close()
            self._admin = None

    async def sample(self, now_ms: int) -> LagSample:
        if self._admin is None or self._consumer is None:
            raise ReaderError("GroupLagReader used outside its 'async with' block")
        try:
            partitions = self._consumer.partitions_for_topic(self.topic)
            if not partitions:
                await self._consumer._client.force_metadata_update()
                partitions = self._consumer.partitions_for_topic(self.topic) or set()
            tps = [TopicPartition(self.topic, p) for p in sorted(partitions)]
            ends = await self._consumer.end_offsets(tps) if tps else {}
            starts = await self._consumer.beginning_offsets(tps) if tps else {}
            listed = await self._admin.list_consumer_group_offsets(self.group, partitions=tps)
        except KafkaError as exc:
            raise ReaderError(f"group lag of {self.group}: {exc}", retriable=True) from exc
        committed = {tp.partition: starts[tp] for tp in tps}
        for tp, meta in listed.items():
            if tp.topic == self.topic and meta.offset >= 0:
                committed[tp.partition] = meta.offset
        return LagSample(now_ms, committed, {tp.partition: ends[tp] for tp in tps})
