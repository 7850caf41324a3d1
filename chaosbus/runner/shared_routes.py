"""Preflight: refuse a route whose source another live interposer already forwards.

Two interposers on one source either double every message (two groups) or split its
partitions (one group, two runs). The broker knows: every live consumer group and what
its members are assigned. A group counts as an interposer when its name or a member's
client id carries the chaosbus marker (`streams.interposer` names its consumers
`chaosbus-interposer`). `--share-route` lets a run go ahead beside it (docs/decisions/0054).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment
from aiokafka.errors import KafkaError

from chaosbus.clients.connection import KafkaSettings, why_unreachable
from chaosbus.clients.quiet import quiet_aiokafka
from chaosbus.control.errors import RouteShared
from chaosbus.errors import Unreachable

MARKER = "chaosbus"
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Reader:
    """A live group reading a topic: its members' client ids and the partitions held."""

    group: str
    topic: str
    clients: tuple[str, ...]
    partitions: tuple[int, ...]

    @property
    def looks_like_interposer(self) -> bool:
        return MARKER in self.group or any(c.startswith(MARKER) for c in self.clients)

    def describe(self) -> str:
        held = ",".join(map(str, self.partitions))
        members = len(self.clients)
        return (
            f"consumer group {self.group!r} ({members} live member{'s' * (members != 1)}, "
            f"client {', '.join(sorted(set(self.clients)))}) already reads {self.topic} "
            f"partitions {held}"
        )


async def live_readers(kafka: KafkaSettings, topics: Iterable[str]) -> list[Reader]:
    """Every live consumer group with members assigned partitions of `topics`."""
    wanted = set(topics)
    admin = AIOKafkaAdminClient(**kafka.client_options(), request_timeout_ms=10_000)
    try:
        with quiet_aiokafka():
            await asyncio.wait_for(admin.start(), 10)
        responses = await _describe_all(admin)
    except (KafkaError, OSError, TimeoutError) as exc:
        # The broker's own reason (refused credentials, an untrusted certificate) when there
        # is one: aiokafka only logs it and raises a bare bootstrap failure.
        raise Unreachable(str(await why_unreachable(kafka))) from exc
    finally:
        await admin.close()
    found: dict[tuple[str, str], tuple[list[str], set[int]]] = {}
    for response in responses:
        for group in response.groups:
            name, members = str(group[1]), group[5]
            for member in members:
                client, raw = str(member[1]), member[4]
                if not raw:
                    continue
                assignment = ConsumerProtocolMemberAssignment.decode(raw)
                for topic, partitions in assignment.assignment:
                    if topic in wanted and partitions:
                        clients, held = found.setdefault((name, topic), ([], set()))
                        clients.append(client)
                        held.update(partitions)
    return [
        Reader(group, topic, tuple(clients), tuple(sorted(held)))
        for (group, topic), (clients, held) in sorted(found.items())
    ]


async def _describe_all(admin: AIOKafkaAdminClient, attempts: int = 50) -> list[Any]:
    """Every group's description; a broker still loading its groups is asked again. A group
    whose description aiokafka cannot decode is skipped with a warning (seen for groups
    of a SIGKILLed member): this check protects, it must not stop a proxy by itself."""
    for attempt in range(attempts):
        try:
            groups = [str(g[0]) for g in await admin.list_consumer_groups()]
            break
        except KafkaError as exc:
            if not exc.retriable or attempt == attempts - 1:
                raise
            # The coordinator loads its groups in its own time; nothing to await but time.
            await asyncio.sleep(0.2)
    out: list[Any] = []
    for group in groups:
        try:
            out.extend(await admin.describe_consumer_groups([group]))
        except (KafkaError, ValueError) as exc:
            log.warning("consumer group %s not described (%r): not checked", group, exc)
    return out


async def refuse_shared_routes(
    kafka: KafkaSettings, sources: Iterable[str], *, own_group: str, own_group_is_replicas: bool
) -> None:
    """Raise `RouteShared` naming the first live interposer already on one of `sources`.

    Our own group's members count as another interposer for `chaosbus run` (a second run of
    one scenario), not for `chaosbus proxy` (its replicas share the group on purpose)."""
    for reader in await live_readers(kafka, sources):
        if reader.group == own_group and own_group_is_replicas:
            continue
        if reader.group == own_group or reader.looks_like_interposer:
            raise RouteShared(
                f"route from {reader.topic} refused: {reader.describe()}; "
                "pass --share-route to run beside it"
            )
