"""What `chaosbus kill`, `unkill`, `control init` and `audit` do, apart from the command line.

`actor` arguments are only what the caller claims (the OS user, `--actor`); the audit log
records the authenticated Redis user as the actor and the claim beside it.
"""

from __future__ import annotations

from chaosbus.contracts.clock import Clock, wall_clock_ms
from chaosbus.control.audit import AuditEntry
from chaosbus.control.chain import Verification
from chaosbus.control.keys import KillState
from chaosbus.control.plane import control_plane


async def kill(
    url: str,
    actor: str | None,
    reason: str | None,
    clock: Clock = wall_clock_ms,
    namespace: str = "chaosbus",
) -> KillState:
    async with control_plane(url, namespace) as plane:
        return await plane.engage(actor, reason, clock())


async def unkill(
    url: str, actor: str | None, clock: Clock = wall_clock_ms, namespace: str = "chaosbus"
) -> bool:
    """Release (admin role); False when it was not engaged."""
    async with control_plane(url, namespace) as plane:
        return await plane.release(actor, clock())


async def init(
    url: str, actor: str | None, clock: Clock = wall_clock_ms, namespace: str = "chaosbus"
) -> bool:
    """First use of a namespace: released; False (and nothing written) when already set up."""
    async with control_plane(url, namespace) as plane:
        return await plane.initialise(actor, clock())


async def audit_log(url: str, limit: int, namespace: str = "chaosbus") -> list[AuditEntry]:
    async with control_plane(url, namespace) as plane:
        return await plane.read_audit(limit)


async def verify_audit(url: str, namespace: str = "chaosbus") -> Verification:
    async with control_plane(url, namespace) as plane:
        return await plane.verify_audit()
