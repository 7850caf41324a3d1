"""The control plane on Redis: the global kill switch and the audit log.

Keys (under a namespace, `chaosbus` by default):

- `<ns>:kill` — a JSON string while the kill switch is engaged (who, why, when); absent
  otherwise. Its existence is the state; the pub/sub message is only a nudge.
- `<ns>:control` — a pub/sub channel on which `kill`/`unkill` are announced, so watchers
  react at once instead of at their next poll.
- `<ns>:audit` — a Redis stream, appended to and never trimmed: the audit log.

Redis errors are translated at this boundary: refused credentials or an untrusted
certificate into `ControlPlaneRefused`, anything else into `ControlPlaneUnreachable`; both
say which Redis with its password redacted.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import TypeVar

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from chaosbus.control.audit import AuditEntry, new_entry
from chaosbus.control.errors import ControlPlaneRefused, ControlPlaneUnreachable
from chaosbus.control.keys import Keys, KillState
from chaosbus.errors import InvalidInput
from streams.redis_client import RedisUrlError, describe_failure, failure_kind, redis_client

T = TypeVar("T")

# Short enough that a hung Redis is noticed well within the one-second kill promise.
SOCKET_TIMEOUT_S = 0.8


def connect(url: str) -> aioredis.Redis:
    """A client of the control plane at `url`; raises `InvalidInput` for a broken URL."""
    try:
        return redis_client(
            url,
            socket_timeout=SOCKET_TIMEOUT_S,
            socket_connect_timeout=SOCKET_TIMEOUT_S,
            decode_responses=True,
        )
    except RedisUrlError as exc:
        raise InvalidInput(str(exc)) from exc


def control_plane_error(url: str, exc: BaseException) -> ControlPlaneUnreachable:
    """The app-shell error for a Redis failure; its message names the cause, never a secret."""
    message = describe_failure(url, exc)
    if failure_kind(exc) == "unreachable":
        return ControlPlaneUnreachable(message)
    return ControlPlaneRefused(message)


class ControlPlane:
    """Kill switch and audit log over one Redis connection pool."""

    def __init__(self, client: aioredis.Redis, url: str, keys: Keys) -> None:
        self.client = client
        self.url = url
        self.keys = keys

    async def kill_state(self) -> KillState | None:
        raw = await self._call(self.client.get(self.keys.kill))
        return None if raw is None else KillState.model_validate_json(raw)

    async def engage(self, actor: str, reason: str | None, now_ms: int) -> KillState:
        state = KillState(actor=actor, reason=reason, at_ms=now_ms)
        await self._call(self.client.set(self.keys.kill, state.model_dump_json()))
        await self._call(self.client.publish(self.keys.channel, "kill"))
        await self.audit(new_entry("kill", actor, now_ms, detail=reason))
        return state

    async def release(self, actor: str, now_ms: int) -> bool:
        """Release the kill switch; False when it was not engaged."""
        removed = await self._call(self.client.delete(self.keys.kill))
        await self._call(self.client.publish(self.keys.channel, "unkill"))
        await self.audit(new_entry("unkill", actor, now_ms))
        return bool(removed)

    async def audit(self, entry: AuditEntry) -> str:
        fields: dict[str, str] = {k: v for k, v in entry.fields().items() if v is not None}
        entry_id = await self._call(self.client.xadd(self.keys.audit, fields))  # type: ignore[arg-type]
        return str(entry_id)

    async def read_audit(self, limit: int = 50) -> list[AuditEntry]:
        """The last `limit` entries, oldest first."""
        rows = await self._call(self.client.xrevrange(self.keys.audit, count=limit))
        # The client decodes responses, so ids and fields are str at run time.
        entries = []
        for entry_id, fields in reversed(rows or []):
            flat = {str(k): str(v) for k, v in (fields or {}).items()}
            entries.append(AuditEntry.from_fields(str(entry_id), flat))
        return entries

    async def _call(self, awaitable: Awaitable[T]) -> T:
        try:
            return await awaitable
        except (RedisError, OSError) as exc:
            raise control_plane_error(self.url, exc) from exc


@asynccontextmanager
async def control_plane(url: str, namespace: str = "chaosbus") -> AsyncIterator[ControlPlane]:
    """A connected control plane; raises `ControlPlaneUnreachable` if Redis does not answer."""
    client = connect(url)
    plane = ControlPlane(client, url, Keys(namespace))
    try:
        try:
            await client.ping()
        except (RedisError, OSError) as exc:
            raise control_plane_error(url, exc) from exc
        yield plane
    finally:
        await client.aclose()
