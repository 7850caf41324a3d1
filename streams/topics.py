"""Topics the interposer needs before it starts: existence, partition counts, and how the
topics chaosbus owns are created (README "Internal topics").

`TopicPolicy` is the one place that says how a topic chaosbus creates looks: the ledger
(3 partitions, delete after a retention), the exactly-once parked topic (1 partition,
compacted) and `--create-topics` destinations (the source's partitions, broker defaults).
Their replication factor is the cluster's `default.replication.factor` unless a setting
names one: never a hard-coded 1, so on a real cluster one broker loss loses nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaConnectionError, KafkaError, TopicAlreadyExistsError

from chaosbus.clients.connection import KafkaSettings, why_unreachable
from chaosbus.clients.quiet import quiet_aiokafka
from chaosbus.contracts.routes import Route
from chaosbus.streams.errors import TopicMissing

log = logging.getLogger(__name__)

LEDGER_PARTITIONS = 3
# One partition: a rebuild reads the whole topic anyway, and its size is bounded by what is
# held (max_held), not by throughput.
PARKED_PARTITIONS = 1
# Kafka's own default, written on the topic so that a cluster whose default is shorter does
# not delete a run's decisions before `chaosbus check` reads them back.
DEFAULT_LEDGER_RETENTION_MS = 7 * 24 * 3600 * 1000
# KIP-464: the broker applies its default.replication.factor. Kafka's KRaft controller honours
# it in aiokafka's CreateTopics v3 too (checked on Kafka 4.1).
BROKER_DEFAULT_REPLICATION = -1

TopicKind = Literal["ledger", "parked", "destination"]


@dataclass(frozen=True)
class TopicShape:
    """Everything a CreateTopics request says about one topic."""

    partitions: int
    replication_factor: int | None  # None: the broker's default.replication.factor
    config: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TopicPolicy:
    """How chaosbus creates the topics it owns; None fields defer to the broker's defaults.

    `min_insync_replicas` matters because every chaosbus producer is idempotent (acks=all):
    with replication 3 and min.insync.replicas 2 a write survives one broker down and is
    on two replicas when acknowledged; with min.insync.replicas 1 (Kafka's default) an
    acknowledged ledger record can sit on one replica only.
    """

    replication_factor: int | None = None
    ledger_retention_ms: int = DEFAULT_LEDGER_RETENTION_MS
    min_insync_replicas: int | None = None

    def __post_init__(self) -> None:
        if self.replication_factor is not None and self.replication_factor < 1:
            raise ValueError(f"replication factor {self.replication_factor}: must be ≥ 1")
        if self.ledger_retention_ms < -1 or self.ledger_retention_ms == 0:
            raise ValueError(
                f"ledger retention {self.ledger_retention_ms} ms: must be > 0, or -1 (forever)"
            )
        if self.min_insync_replicas is not None and self.min_insync_replicas < 1:
            raise ValueError(f"min.insync.replicas {self.min_insync_replicas}: must be ≥ 1")
        if (
            self.min_insync_replicas is not None
            and self.replication_factor is not None
            and self.min_insync_replicas > self.replication_factor
        ):
            raise ValueError(
                f"min.insync.replicas {self.min_insync_replicas} exceeds the replication "
                f"factor {self.replication_factor}: every write would be refused"
            )

    def shape(self, kind: TopicKind, partitions: int | None = None) -> TopicShape:
        """The ledger and parked topics have fixed partitions; a destination takes its source's."""
        config: dict[str, str] = {}
        if self.min_insync_replicas is not None:
            config["min.insync.replicas"] = str(self.min_insync_replicas)
        if kind == "ledger":
            config |= {"cleanup.policy": "delete", "retention.ms": str(self.ledger_retention_ms)}
            return TopicShape(LEDGER_PARTITIONS, self.replication_factor, config)
        if kind == "parked":
            # One record per held message, a tombstone once released: compaction keeps the
            # topic as small as what is held, and nothing held ever expires. Payloads live
            # here only while held: rolling a segment every hour lets compaction drop a
            # released one and its tombstone within about two hours (docs/decisions/0055),
            # not after Kafka's default week-long segment.
            config |= {
                "cleanup.policy": "compact",
                "segment.ms": "3600000",
                "delete.retention.ms": "3600000",
            }
            return TopicShape(PARKED_PARTITIONS, self.replication_factor, config)
        if partitions is None:
            raise ValueError("a destination topic takes its source's partition count")
        # The service's own topic: its retention and cleanup are the broker's defaults.
        return TopicShape(partitions, self.replication_factor, config)


class TopicAdmin:
    """A thin async context manager over aiokafka's admin client."""

    def __init__(self, kafka: KafkaSettings, *, timeout_s: float = 10) -> None:
        self._kafka = kafka
        self._timeout_s = timeout_s
        self._admin = AIOKafkaAdminClient(
            **kafka.client_options(), request_timeout_ms=int(timeout_s * 1000)
        )

    async def __aenter__(self) -> TopicAdmin:
        try:
            # The caller reports an unreachable broker in one line of its own.
            with quiet_aiokafka():
                await asyncio.wait_for(self._admin.start(), self._timeout_s)
        except (KafkaConnectionError, OSError, TimeoutError) as exc:
            await self._admin.close()
            raise await why_unreachable(self._kafka) from exc
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._admin.close()

    async def partition_counts(self, topics: Iterable[str]) -> dict[str, int]:
        """Partition count of each topic that exists; missing topics are absent."""
        return {topic: len(replicas) for topic, replicas in (await self._replicas(topics)).items()}

    async def replication_factors(self, topics: Iterable[str]) -> dict[str, int]:
        """The fewest replicas any partition of each existing topic has."""
        return {
            topic: min(len(r) for r in replicas)
            for topic, replicas in (await self._replicas(topics)).items()
            if replicas
        }

    async def _replicas(self, topics: Iterable[str]) -> dict[str, list[list[int]]]:
        described = await self._admin.describe_topics(sorted(set(topics)))
        return {
            entry["topic"]: [p["replicas"] for p in entry["partitions"]]
            for entry in described
            if entry.get("error_code", 0) == 0
        }

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

    async def topic_config(self, topic: str) -> dict[str, str]:
        """The effective configuration of an existing topic (its own and inherited values)."""
        wanted = ConfigResource(ConfigResourceType.TOPIC, topic)
        return {
            name: value
            for response in await self._admin.describe_configs([wanted])
            for resource in response.resources
            for name, value, *_ in resource[4]
        }

    async def broker_default_replication(self) -> int:
        """The cluster's default.replication.factor, as the controller reports it."""
        controller = (await self._admin.describe_cluster())["controller_id"]
        wanted = ConfigResource(
            ConfigResourceType.BROKER, str(controller), configs={"default.replication.factor": None}
        )
        for response in await self._admin.describe_configs([wanted]):
            for resource in response.resources:
                for name, value, *_ in resource[4]:
                    if name == "default.replication.factor":
                        return int(value)
        raise TopicMissing("the broker did not report its default.replication.factor")

    async def ensure(self, topic: str, shape: TopicShape) -> None:
        """Create `topic` as `shape` says, unless it exists: an existing topic is kept as is,
        with a warning when it has fewer replicas than the policy asks for."""
        existing = await self.replication_factors([topic])
        if topic in existing:
            wanted = shape.replication_factor or await self.broker_default_replication()
            if existing[topic] < wanted:
                log.warning(
                    "topic %s exists with replication factor %d, fewer than %d: chaosbus does "
                    "not alter it (kafka-reassign-partitions.sh can)",
                    topic,
                    existing[topic],
                    wanted,
                )
            return
        await self.create(
            topic,
            shape.partitions,
            config=dict(shape.config),
            replication_factor=shape.replication_factor,
        )

    async def create(
        self,
        topic: str,
        partitions: int,
        *,
        config: dict[str, str] | None = None,
        replication_factor: int | None = None,
    ) -> None:
        """Create a topic; without a replication factor, the broker's default applies."""
        code, message = await self._create_one(
            topic, partitions, replication_factor or BROKER_DEFAULT_REPLICATION, config or {}
        )
        if replication_factor is None and code in _KIP_464_REFUSED:
            # A broker older than 2.4 takes no -1: ask it for its default and say it.
            default = await self.broker_default_replication()
            code, message = await self._create_one(topic, partitions, default, config or {})
        if code in (0, TopicAlreadyExistsError.errno):
            return
        raise TopicMissing(f"cannot create topic {topic!r}: {message or f'error code {code}'}")

    async def _create_one(
        self, topic: str, partitions: int, replication: int, config: dict[str, str]
    ) -> tuple[int, str | None]:
        # aiokafka's NewTopic accepts a -1 only beside (empty) replica assignments.
        assignments: dict[int, list[int]] | None = (
            {} if replication == BROKER_DEFAULT_REPLICATION else None
        )
        new = NewTopic(topic, partitions, replication, assignments, topic_configs=config)
        try:
            response = await self._admin.create_topics([new])
        except KafkaError as exc:
            raise TopicMissing(f"cannot create topic {topic!r}: {exc}") from exc
        # aiokafka returns per-topic errors in the response rather than raising them.
        for entry in response.topic_errors:
            if entry[0] == topic:
                return int(entry[1]), entry[2] if len(entry) > 2 else None
        return 0, None


# INVALID_REQUEST and UNSUPPORTED_VERSION: how a pre-KIP-464 broker refuses replication -1.
_KIP_464_REFUSED = (42, 35)


async def check_routes(
    admin: TopicAdmin,
    routes: Iterable[Route],
    *,
    create_destinations: bool,
    policy: TopicPolicy | None = None,
) -> dict[str, int]:
    """Partition counts for every route topic; a missing one is an error unless created
    (a dead-letter topic is never created)."""
    routes = list(routes)
    dead_letters = [r.dead_letter for r in routes if r.dead_letter is not None]
    counts = await admin.partition_counts(
        [r.source for r in routes] + [r.destination for r in routes] + dead_letters
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
            shape = (policy or TopicPolicy()).shape("destination", counts[route.source])
            await admin.ensure(route.destination, shape)
            counts[route.destination] = counts[route.source]
        # Never created: a dead letter topic left to the broker's auto-creation would take
        # its defaults, perhaps a size limit that refuses the very message sent there.
        if route.dead_letter is not None and route.dead_letter not in counts:
            raise TopicMissing(
                f"dead-letter topic {route.dead_letter!r} of route {route.name} does not exist "
                "(create it first, with a max.message.bytes that takes what the destination "
                "refuses)"
            )
    return counts
