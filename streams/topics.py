"""Topic metadata the interposer needs before it starts: existence and partition counts."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaConnectionError, KafkaError, TopicAlreadyExistsError

from streams.errors import BrokerUnreachable, TopicMissing
from streams.quiet import quiet_aiokafka
from streams.routes import Route


class TopicAdmin:
    """A thin async context manager over aiokafka's admin client."""

    def __init__(self, bootstrap: str, *, timeout_s: float = 10) -> None:
        self._bootstrap = bootstrap
        self._timeout_s = timeout_s
        self._admin = AIOKafkaAdminClient(
            bootstrap_servers=bootstrap, request_timeout_ms=int(timeout_s * 1000)
        )

    async def __aenter__(self) -> TopicAdmin:
        try:
            # The caller reports an unreachable broker in one line of its own.
            with quiet_aiokafka():
                await asyncio.wait_for(self._admin.start(), self._timeout_s)
        except (KafkaConnectionError, OSError, TimeoutError) as exc:
            await self._admin.close()
            raise BrokerUnreachable(f"no Kafka broker answers at {self._bootstrap}") from exc
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._admin.close()

    async def partition_counts(self, topics: Iterable[str]) -> dict[str, int]:
        """Partition count of each topic that exists; missing topics are absent."""
        wanted = sorted(set(topics))
        described = await self._admin.describe_topics(wanted)
        counts: dict[str, int] = {}
        for entry in described:
            if entry.get("error_code", 0) == 0:
                counts[entry["topic"]] = len(entry["partitions"])
        return counts

    async def max_message_bytes(self, topics: Iterable[str]) -> dict[str, int]:
        """Each topic's `max.message.bytes`: the largest record batch its broker accepts."""
        wanted = sorted(set(topics))
        if not wanted:
            return {}
        resources = [
            ConfigResource(ConfigResourceType.TOPIC, topic, {"max.message.bytes": None})
            for topic in wanted
        ]
        limits: dict[str, int] = {}
        for response in await self._admin.describe_configs(resources):
            for _error, _message, _type, name, entries in response.resources:
                for entry in entries:
                    if entry[0] == "max.message.bytes" and entry[1] is not None:
                        limits[name] = int(entry[1])
        return limits

    async def committed(self, group_id: str) -> dict[tuple[str, int], int]:
        offsets = await self._admin.list_consumer_group_offsets(group_id)
        return {(tp.topic, tp.partition): meta.offset for tp, meta in offsets.items()}

    async def create(
        self, topic: str, partitions: int, *, config: dict[str, str] | None = None
    ) -> None:
        try:
            await self._admin.create_topics(
                [NewTopic(topic, partitions, 1, topic_configs=config or {})]
            )
        except TopicAlreadyExistsError:
            return
        except KafkaError as exc:
            raise TopicMissing(f"cannot create topic {topic!r}: {exc}") from exc


async def check_routes(
    admin: TopicAdmin, routes: Iterable[Route], *, create_destinations: bool
) -> dict[str, int]:
    """Partition counts for every route topic; a missing one is an error unless created."""
    routes = list(routes)
    counts = await admin.partition_counts(
        [r.source for r in routes] + [r.destination for r in routes]
    )
    for route in routes:
        if route.source not in counts:
            raise TopicMissing(
                f"source topic {route.source!r} of route {route.name} does not exist"
            )
        if route.destination not in counts:
            if not create_destinations:
                raise TopicMissing(
                    f"destination topic {route.destination!r} of route {route.name} does not "
                    "exist (pass --create-topics to create it with the source's partitions)"
                )
            await admin.create(route.destination, counts[route.source])
            counts[route.destination] = counts[route.source]
    return counts
