"""What `chaosbus kill`, `unkill` and `audit` do, apart from the command line."""

from __future__ import annotations

from chaosbus.control.audit import AuditEntry
from chaosbus.control.keys import KillState
from chaosbus.control.plane import control_plane
from streams.clock import Clock, wall_clock_ms


async def kill(
    url: str,
    actor: str,
    reason: str | None,
    clock: Clock = wall_clock_ms,
    namespace: str = "chaosbus",
) -> KillState:
    async with control_plane(url, namespace) as plane:
        return await plane.engage(actor, reason, clock())


async def unkill(
    url: str, actor: str, clock: Clock = wall_clock_ms, namespace: str = "chaosbus"
) -> bool:
    async with control_plane(url, namespace) as plane:
        return await plane.release(actor, clock())


async def audit_log(url: str, limit: int, namespace: str = "chaosbus") -> list[AuditEntry]:
    async with control_plane(url, namespace) as plane:
        return await plane.read_audit(limit)
