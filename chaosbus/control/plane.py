"""The control plane on Redis: the global kill switch, the audit log and approvals.

Keys (under a namespace, `chaosbus` by default; see `keys.Keys`):

- `<ns>:kill` — the released marker (JSON), written by `unkill` and `control init` only.
  Absent or any other value means engaged (fail closed, docs/decisions/0050).
- `<ns>:kills` — how many times the switch was engaged; a release covers a count.
- `<ns>:control` — a pub/sub channel on which `kill`/`unkill` are announced, so watchers
  react at once instead of at their next poll.
- `<ns>:audit:seq`, `<ns>:audit:by:<user>` — the audit log (`chain.py`).
- `<ns>:approval:<area>:<sha256>:<user>` — one sign-off, expiring.

Every write is a function of the `chaosbus_v1` library run by the server (`functions.py`,
docs/decisions/0300): this module only reads and calls them. The actor of every write is
the authenticated Redis user (`ACL WHOAMI`), which the function checks against the
credential. Redis errors are translated at this boundary: NOPERM into `NotPermitted`, a
function's refusal into `InvalidInput`, refused credentials or an untrusted certificate
into `ControlPlaneRefused`, anything else into `ControlPlaneUnreachable`; each says which
Redis with its password redacted.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import redis.asyncio as aioredis
from redis.exceptions import NoPermissionError, RedisError, ResponseError

from chaosbus.clients.errors import RedisUrlError
from chaosbus.clients.redaction import redact_url
from chaosbus.clients.redis_client import (
    describe_failure,
    failure_kind,
    redis_client,
)
from chaosbus.control.audit import AuditEntry
from chaosbus.control.chain import Verification, verify
from chaosbus.control.errors import ControlPlaneRefused, ControlPlaneUnreachable, NotPermitted
from chaosbus.control.functions import load_library, not_loaded, reason_of
from chaosbus.control.keys import (
    Keys,
    KillState,
    SwitchState,
    kill_count,
    kill_from_json,
    switch_state,
)
from chaosbus.errors import InvalidInput

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


async def get_or_none(client: Any, key: str) -> str | None:
    """GET, with a key of another type read as an unexpected value (judged engaged)."""
    try:
        raw = await client.get(key)
    except NoPermissionError:
        raise
    except ResponseError as exc:
        if "wrongtype" in str(exc).lower():
            return "\x00wrong type"
        raise
    return None if raw is None else str(raw)


async def read_switch(client: Any, keys: Keys) -> SwitchState:
    """The switch as it stands; raises RedisError/OSError when Redis does not answer."""
    raw = await get_or_none(client, keys.kill)
    kills = kill_count(await get_or_none(client, keys.kills))
    last = kill_from_json(await get_or_none(client, keys.last_kill))
    return switch_state(raw, kills, last)


async def read_audit_lists(client: Any, keys: Keys) -> tuple[dict[str, list[str]], int]:
    """Every user's entries and the sequence counter (absent: 0; not a count: -1)."""
    prefix = keys.audit_of("")
    lists: dict[str, list[str]] = {}
    async for key in client.scan_iter(match=keys.audit_lists, count=500):
        name = str(key)
        rows = await client.lrange(name, 0, -1)
        lists[name.removeprefix(prefix)] = [str(r) for r in rows or []]
    raw = await get_or_none(client, keys.audit_seq)
    added = kill_count(raw)
    return lists, -1 if added is None else added


class ControlPlane:
    """Kill switch, audit log and approvals over one Redis connection pool."""

    def __init__(self, client: aioredis.Redis, url: str, keys: Keys) -> None:
        self.client = client
        self.url = url
        self.keys = keys
        self.user = "default"  # replaced by `ACL WHOAMI` when connected

    async def switch(self) -> SwitchState:
        return await self.call(read_switch(self.client, self.keys), "read the kill switch")

    async def required_areas(self) -> tuple[str, ...]:
        """The namespace's policy: areas every run must have signed (admins set it)."""
        policy = await self.call(self.client.hgetall(self.keys.policy), "read the policy")
        raw = str((policy or {}).get("approvals", ""))
        return tuple(a for a in (x.strip() for x in raw.split(",")) if a)

    async def kill_state(self) -> SwitchState | None:
        """None when released; the engaged state (and why) otherwise."""
        state = await self.switch()
        return state if state.engaged else None

    async def fcall(self, name: str, *args: str | int | None, doing: str) -> Any:
        """Run one of the library's functions as this user; loads the library when it is
        missing and this user may (admins)."""
        argv = [self.keys.namespace, self.user, *("" if a is None else str(a) for a in args)]
        try:
            return await self.call(self.client.fcall(name, 0, *argv), doing)
        except ControlPlaneRefused as exc:
            cause = exc.__cause__
            if cause is None or not not_loaded(cause):
                raise
        try:
            await load_library(self.client)
        except NoPermissionError as exc:
            raise ControlPlaneRefused(
                "the control plane's functions are not loaded in this Redis: an admin runs "
                "`chaosbus control init` (or `control acl --apply`)"
            ) from exc
        return await self.call(self.client.fcall(name, 0, *argv), doing)

    async def engage(self, claimed: str | None, reason: str | None, now_ms: int) -> KillState:
        """Engage (operators and admins): the server counts the kill, records who and when,
        announces it and writes the audit entry. A kill that cannot be recorded still
        engages; `now_ms` is unused, the server's clock is the one that counts."""
        try:
            _, at_ms, _ = await self.fcall(
                "chaosbus_kill", claimed, reason, doing="engage the kill switch"
            )
        except ControlPlaneRefused:
            # No functions here: engage anyway (the count alone engages), then say so.
            await self.call(self.client.incr(self.keys.kills), "engage the kill switch")
            await self.call(self.client.publish(self.keys.channel, "kill"), "announce the kill")
            raise
        return KillState(actor=self.user, reason=reason, at_ms=int(at_ms))

    async def release(self, claimed: str | None, now_ms: int, *, action: str = "unkill") -> bool:
        """Release (admin): the marker covering every kill counted, and its audit entry,
        in one function. False when the switch was already released."""
        before = await self.switch()
        await self.fcall(
            "chaosbus_release",
            claimed,
            action,
            doing="release the kill switch (needs the admin role)",
        )
        return before.engaged

    async def initialise(self, claimed: str | None, now_ms: int) -> bool:
        """First use: write the released marker if this namespace has no history at all
        (no marker, no kill, no audit entry) — so a deleted marker cannot be re-initialised."""
        await self.call(load_library(self.client), "load the control plane's functions")
        done, _, _ = await self.fcall(
            "chaosbus_release", claimed, "init", doing="initialise the control plane"
        )
        return bool(done)

    async def audit(self, entry: AuditEntry, *, doing: str = "write the audit log") -> str:
        """Append `entry` (start, stop, abort, verdict, refused): the server takes the next
        sequence number, links it and stamps the time and the caller. Raises when it could
        not be written."""
        claimed = entry.actor if entry.actor != self.user else None
        seq = await self.fcall(
            "chaosbus_audit",
            claimed,
            entry.action,
            entry.run_id,
            entry.experiment,
            entry.detail,
            doing=doing,
        )
        return str(seq)

    async def read_audit(self, limit: int = 50) -> list[AuditEntry]:
        """The last `limit` entries, oldest first."""
        lists, _ = await self.call(read_audit_lists(self.client, self.keys), "read audit")
        entries = [
            entry
            for owner, elements in lists.items()
            for entry in (AuditEntry.of_element(owner, e) for e in elements)
            if entry is not None
        ]
        entries.sort(key=lambda e: int(e.id or 0))
        return entries[-limit:] if limit else []

    async def verify_audit(self) -> Verification:
        """Read the whole log and check its chain."""
        lists, added = await self.call(
            read_audit_lists(self.client, self.keys), "read the audit log"
        )
        if added < 0:
            return Verification(0, 0, "", (f"{self.keys.audit_seq} does not hold a count",))
        return verify(lists, added)

    async def call(self, awaitable: Awaitable[T], doing: str = "answer") -> T:
        try:
            return await awaitable
        except NoPermissionError as exc:
            raise NotPermitted(
                f"the Redis user {self.user!r} may not {doing} (its role does not allow it)"
            ) from exc
        except ResponseError as exc:
            if "chaosbus:" in str(exc):
                raise InvalidInput(f"could not {doing}: {reason_of(exc)}") from exc
            if not_loaded(exc):
                raise ControlPlaneRefused(f"could not {doing}: {exc}") from exc
            raise control_plane_error(self.url, exc) from exc
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
