"""What `chaosbus map` reads from the cluster: topics, consumer groups, members, lag.

    topics and their partitions, end offsets (a consumer's metadata)
    consumer groups → members (client ids) and the partitions each is assigned (admin)
    each group's committed offsets → lag per topic, sampled twice to see it grow

Each piece is read on its own: a piece the cluster refuses (an ACL that denies describing
groups, a group the broker cannot describe) is recorded in `unread` with the broker's
reason, and the map is drawn from the rest. Only a broker that does not answer at all is an
error (exit 2). Internal topics (`__consumer_offsets`, …) are left out.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment
from aiokafka.errors import KafkaError

from chaosbus.clients.connection import KafkaSettings, why_unreachable
from chaosbus.clients.consumers import standalone_consumer
from chaosbus.clients.errors import BrokerUnreachable
from chaosbus.clients.quiet import quiet_aiokafka
from chaosbus.errors import Unreachable
from chaosbus.runner.shared_routes import MARKER

ADMIN_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Group:
    name: str
    state: str
    clients: tuple[str, ...]  # members' client ids
    reads: tuple[str, ...]  # topics its members are assigned, or it has offsets on
    lag: dict[str, int]  # per topic: end offsets minus committed, summed over partitions
    lag_growth: dict[str, int] = field(default_factory=dict)  # per topic, between samples

    @property
    def looks_like_interposer(self) -> bool:
        return MARKER in self.name or any(c.startswith(MARKER) for c in self.clients)


@dataclass
class ClusterView:
    bootstrap: str
    topics: dict[str, int] = field(default_factory=dict)  # name → partitions
    groups: list[Group] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)  # what could not be read, and why


async def read_cluster(kafka: KafkaSettings, *, sample_s: float = 2.0) -> ClusterView:
    """Topics and groups now; lag now and `sample_s` later (0: one sample, no growth)."""
    view = ClusterView(kafka.bootstrap)
    ends = await _topics(kafka, view)
    described = await _groups(kafka, view)
    first = await _committed(kafka, view, described)
    if sample_s > 0 and first:
        await asyncio.sleep(sample_s)  # lag growth is a change over time: nothing to await
        ends_later = await _topics(kafka, ClusterView(kafka.bootstrap))
        later = await _committed(kafka, ClusterView(kafka.bootstrap), described)
    else:
        ends_later, later = ends, first
    for name, (state, clients, assigned) in sorted(described.items()):
        offsets = first.get(name, {})
        reads = sorted({*assigned, *(tp.topic for tp in offsets)} & set(view.topics))
        lag = _lag(offsets, ends)
        grown = _lag(later.get(name, {}), ends_later)
        view.groups.append(
            Group(
                name,
                state,
                tuple(sorted(set(clients))),
                tuple(reads),
                lag,
                {t: grown.get(t, 0) - lag.get(t, 0) for t in lag},
            )
        )
    return view


def _lag(offsets: dict[TopicPartition, int], ends: dict[TopicPartition, int]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for tp, committed in offsets.items():
        if tp in ends and committed >= 0:
            out[tp.topic] += max(ends[tp] - committed, 0)
    return dict(out)


async def _topics(kafka: KafkaSettings, view: ClusterView) -> dict[TopicPartition, int]:
    try:
        async with standalone_consumer(kafka) as consumer:
            # The metadata of every topic; aiokafka has no public call that returns it whole.
            cluster = await consumer._client.fetch_all_metadata()
            names = sorted(t for t in cluster.topics() if not t.startswith("__"))
            tps: list[TopicPartition] = []
            for name in names:
                partitions = sorted(cluster.partitions_for_topic(name) or ())
                view.topics[name] = len(partitions)
                tps += [TopicPartition(name, p) for p in partitions]
            return dict(await consumer.end_offsets(tps)) if tps else {}
    except BrokerUnreachable as exc:
        raise Unreachable(str(exc)) from exc
    except KafkaError as exc:
        view.unread.append(f"topics: {type(exc).__name__}: {exc}")
        return {}
    except OSError as exc:
        raise Unreachable(str(await why_unreachable(kafka))) from exc


Described = dict[str, tuple[str, list[str], list[str]]]  # name → (state, clients, topics)


async def _groups(kafka: KafkaSettings, view: ClusterView) -> Described:
    admin = AIOKafkaAdminClient(**kafka.client_options(), request_timeout_ms=10_000)
    out: Described = {}
    try:
        with quiet_aiokafka():
            await asyncio.wait_for(admin.start(), ADMIN_TIMEOUT_S)
        try:
            names = sorted(str(g[0]) for g in await admin.list_consumer_groups())
        except KafkaError as exc:
            view.unread.append(f"consumer groups: {type(exc).__name__}: {exc}")
            return out
        for name in names:
            try:
                responses = await admin.describe_consumer_groups([name])
            except (KafkaError, ValueError) as exc:
                view.unread.append(f"group {name}: {type(exc).__name__}: {exc}")
                continue
            for response in responses:
                for group in response.groups:
                    out[name] = _members(group, view)
    except (KafkaError, OSError, TimeoutError) as exc:
        raise Unreachable(str(await why_unreachable(kafka))) from exc
    finally:
        await admin.close()
    return out


def _members(group: Any, view: ClusterView) -> tuple[str, list[str], list[str]]:
    error, name, state, members = group[0], str(group[1]), str(group[2]), group[5]
    if error:
        view.unread.append(f"group {name}: error code {error} describing it")
    clients: list[str] = []
    topics: set[str] = set()
    for member in members or ():
        clients.append(str(member[1]))
        raw = member[4]
        if raw:
            for topic, partitions in ConsumerProtocolMemberAssignment.decode(raw).assignment:
                if partitions:
                    topics.add(topic)
    return state, clients, sorted(topics)


async def _committed(
    kafka: KafkaSettings, view: ClusterView, described: Described
) -> dict[str, dict[TopicPartition, int]]:
    admin = AIOKafkaAdminClient(**kafka.client_options(), request_timeout_ms=10_000)
    out: dict[str, dict[TopicPartition, int]] = {}
    try:
        with quiet_aiokafka():
            await asyncio.wait_for(admin.start(), ADMIN_TIMEOUT_S)
        for name in described:
            try:
                offsets = await admin.list_consumer_group_offsets(name)
            except KafkaError as exc:
                view.unread.append(f"offsets of group {name}: {type(exc).__name__}: {exc}")
                continue
            out[name] = {tp: meta.offset for tp, meta in offsets.items()}
    except (KafkaError, OSError, TimeoutError) as exc:
        raise Unreachable(str(await why_unreachable(kafka))) from exc
    finally:
        await admin.close()
    return out
