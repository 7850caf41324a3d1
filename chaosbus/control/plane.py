"""The control plane on Redis: the global kill switch, the audit log and approvals.

Keys (under a namespace, `chaosbus` by default; see `keys.Keys`):

- `<ns>:kill` — the released marker (JSON), written by `unkill` and `control init` only.
  Absent or any other value means engaged (fail closed, docs/decisions/0050).
- `<ns>:kills` — a stream of engagements; `kill` appends, a release covers its last id.
- `<ns>:control` — a pub/sub channel on which `kill`/`unkill` are announced, so watchers
  react at once instead of at their next poll.
- `<ns>:audit` — a Redis stream, hash-chained (`chain.py`): the audit log.
- `<ns>:approval:<area>:<sha256>:<user>` — one sign-off of one file content.

The actor of every write is the authenticated Redis user (`ACL WHOAMI`), never free text;
the Redis ACL rules of `chaosbus control acl` decide who may do what (0052). Redis errors
are translated at this boundary: NOPERM into `NotPermitted`, refused credentials or an
untrusted certificate into `ControlPlaneRefused`, anything else into
`ControlPlaneUnreachable`; each says which Redis with its password redacted.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import redis.asyncio as aioredis
from redis.exceptions import NoPermissionError, RedisError, ResponseError, WatchError

from chaosbus.clients.errors import RedisUrlError
from chaosbus.clients.redaction import redact_url
from chaosbus.clients.redis_client import (
    describe_failure,
    failure_kind,
    redis_client,
)
from chaosbus.control.audit import AuditEntry, new_entry
from chaosbus.control.chain import GENESIS, Verification, chained, verify
from chaosbus.control.errors import ControlPlaneRefused, ControlPlaneUnreachable, NotPermitted
from chaosbus.control.keys import (
    Keys,
    KillState,
    SwitchState,
    kill_from_fields,
    released_value,
    switch_state,
)
from chaosbus.errors import InvalidInput

T = TypeVar("T")
Queue = Callable[[Any], object]  # queues more commands on the audit write's transaction

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


async def stream_info(client: Any, key: str) -> dict[str, Any]:
    """XINFO STREAM, or an empty dict when the stream does not exist."""
    try:
        return dict(await client.xinfo_stream(key))
    except NoPermissionError:
        raise
    except ResponseError as exc:
        if "no such key" in str(exc).lower():
            return {}
        raise


async def read_switch(client: Any, keys: Keys) -> SwitchState:
    """The switch as it stands; raises RedisError/OSError when Redis does not answer."""
    raw = await client.get(keys.kill)
    info = await stream_info(client, keys.kills)
    last_id = info.get("last-generated-id")
    last_entry = info.get("last-entry")
    last_kill = None
    if last_entry:
        last_kill = kill_from_fields({str(k): str(v) for k, v in (last_entry[1] or {}).items()})
    return switch_state(
        None if raw is None else str(raw), None if last_id is None else str(last_id), last_kill
    )


class ControlPlane:
    """Kill switch, audit log and approvals over one Redis connection pool."""

    def __init__(self, client: aioredis.Redis, url: str, keys: Keys) -> None:
        self.client = client
        self.url = url
        self.keys = keys
        self.user = "default"  # replaced by `ACL WHOAMI` when connected

    async def switch(self) -> SwitchState:
        return await self.call(read_switch(self.client, self.keys), "read the kill switch")

    async def kill_state(self) -> SwitchState | None:
        """None when released; the engaged state (and why) otherwise."""
        state = await self.switch()
        return state if state.engaged else None

    async def engage(self, claimed: str | None, reason: str | None, now_ms: int) -> KillState:
        """Engage: append to the kills stream (operators may), announce, audit."""
        state = KillState(actor=self.user, reason=reason, at_ms=now_ms)
        fields = {"actor": self.user, "at_ms": str(now_ms), "reason": reason or ""}
        await self.call(self.client.xadd(self.keys.kills, fields), "engage the kill switch")  # type: ignore[arg-type]
        await self.call(self.client.publish(self.keys.channel, "kill"), "announce the kill")
        await self.audit(new_entry("kill", claimed or self.user, now_ms, detail=reason))
        return state

    async def release(self, claimed: str | None, now_ms: int, *, action: str = "unkill") -> bool:
        """Release (admin): the marker and its audit entry in one transaction. False when
        the switch was already released."""
        before = await self.switch()
        info = await self.call(stream_info(self.client, self.keys.kills), "read the kills")
        covers = str(info.get("last-generated-id") or "0-0")
        value = released_value(self.user, now_ms, covers)
        entry = new_entry(action, claimed or self.user, now_ms, detail=f"covers kill {covers}")  # type: ignore[arg-type]
        await self.audit(
            entry,
            also=lambda pipe: pipe.set(self.keys.kill, value),
            doing="release the kill switch (needs the admin role)",
        )
        await self.call(self.client.publish(self.keys.channel, "unkill"), "announce the release")
        return before.engaged

    async def initialise(self, claimed: str | None, now_ms: int) -> bool:
        """First use: write the released marker if this namespace has no history at all
        (no marker, no kill, no audit entry) — so a deleted marker cannot be re-initialised."""
        exists = await self.call(
            self.client.exists(self.keys.kill, self.keys.kills, self.keys.audit),
            "read the kill switch",
        )
        if exists:
            return False
        await self.release(claimed, now_ms, action="init")
        return True

    async def audit(
        self, entry: AuditEntry, *, also: Queue | None = None, doing: str = "write the audit log"
    ) -> str:
        """Append `entry` to the chain (WATCH/MULTI, so concurrent writers cannot fork it),
        with `also` queued in the same transaction. Raises when it could not be written."""
        return await self.call(self._append(entry, also), doing)

    async def _append(self, entry: AuditEntry, also: Queue | None) -> str:
        claimed = entry.actor if entry.actor != self.user else None
        stamped = entry.model_copy(update={"actor": self.user, "claimed": claimed})
        fields = {k: v for k, v in stamped.fields().items() if v is not None}
        async with self.client.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(self.keys.audit)
                    info = await stream_info(pipe, self.keys.audit)
                    last = info.get("last-entry")
                    prev = str((last[1] or {}).get("hash", GENESIS)) if last else GENESIS
                    seq = int(info.get("entries-added", 0)) + 1
                    pipe.multi()  # type: ignore[no-untyped-call]
                    pipe.xadd(self.keys.audit, chained(fields, seq, prev))  # type: ignore[arg-type]
                    if also is not None:
                        also(pipe)
                    results = await pipe.execute()
                    return str(results[0])
                except WatchError:
                    continue

    async def read_audit(self, limit: int = 50) -> list[AuditEntry]:
        """The last `limit` entries, oldest first."""
        rows = await self.call(self.client.xrevrange(self.keys.audit, count=limit), "read audit")
        # The client decodes responses, so ids and fields are str at run time.
        entries = []
        for entry_id, fields in reversed(rows or []):
            flat = {str(k): str(v) for k, v in (fields or {}).items()}
            entries.append(AuditEntry.from_fields(str(entry_id), flat))
        return entries

    async def verify_audit(self) -> Verification:
        """Read the whole log and check its chain."""
        info = await self.call(stream_info(self.client, self.keys.audit), "read the audit log")
        rows = await self.call(self.client.xrange(self.keys.audit), "read the audit log")
        flat: list[tuple[str, Mapping[str, str]]] = [
            (str(i), {str(k): str(v) for k, v in (f or {}).items()}) for i, f in rows or []
        ]
        return verify(flat, int(info.get("entries-added", 0)))

    async def call(self, awaitable: Awaitable[T], doing: str = "answer") -> T:
        try:
            return await awaitable
        except NoPermissionError as exc:
            raise NotPermitted(
                f"the Redis user {self.user!r} may not {doing} (its role does not allow it)"
            ) from exc
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
            plane.user = str(await client.acl_whoami())
        except NoPermissionError as exc:
            raise NotPermitted(
                f"the Redis user at {redact_url(url)} may not run ACL WHOAMI"
            ) from exc
        except (RedisError, OSError) as exc:
            raise control_plane_error(url, exc) from exc
        yield plane
    finally:
        await client.aclose()
