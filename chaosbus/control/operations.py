"""The control plane's one-shot operations: each opens the plane, does one thing, closes it.

    kill, unkill, init          the kill switch (`chaosbus kill`, `unkill`, `control init`)
    pause, resume, pauses       the scoped switches (`chaosbus pause`, `resume`)
    audit_log, verify_audit     the audit log (`chaosbus audit [--verify]`)
    sign_off, show_approvals    sign-offs bound to content (`chaosbus approve`, `approvals`)
    apply_acl                   the roles as Redis ACL users (`chaosbus control acl --apply`)

The commands (`chaosbus.commands`), the demo, the local stack and the tests call these.
`actor` arguments are only what the caller claims (the OS user, `--actor`); the audit log
records the authenticated Redis user as the actor and the claim beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chaosbus.contracts.clock import Clock, wall_clock_ms
from chaosbus.control.acl import DEFAULT_OFF, AclUser, setuser_commands
from chaosbus.control.approvals import (
    WEEK_MS,
    ApprovalState,
    Signoff,
    approval_state,
    approve,
)
from chaosbus.control.audit import AuditEntry
from chaosbus.control.chain import Verification
from chaosbus.control.functions import load_library
from chaosbus.control.keys import KillState
from chaosbus.control.plane import control_plane
from chaosbus.control.scopes import Paused, Scope, paused_now, write_scope


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


async def pause(
    url: str,
    scope: Scope,
    actor: str | None,
    reason: str | None,
    clock: Clock = wall_clock_ms,
    namespace: str = "chaosbus",
) -> bool:
    """Pause injection on one scope in every replica (operator role); False when it was
    paused already."""
    async with control_plane(url, namespace) as plane:
        return await write_scope(
            plane, scope, paused=True, claimed=actor, reason=reason, now_ms=clock()
        )


async def resume(
    url: str,
    scope: Scope,
    actor: str | None,
    clock: Clock = wall_clock_ms,
    namespace: str = "chaosbus",
) -> bool:
    """Resume injection on one scope; False when it was not paused."""
    async with control_plane(url, namespace) as plane:
        return await write_scope(
            plane, scope, paused=False, claimed=actor, reason=None, now_ms=clock()
        )


async def pauses(url: str, namespace: str = "chaosbus") -> Paused:
    async with control_plane(url, namespace) as plane:
        return await paused_now(plane)


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


async def sign_off(
    url: str,
    area: str,
    sha256: str,
    experiment: str,
    claimed: str | None,
    *,
    namespace: str = "chaosbus",
    clock: Clock = wall_clock_ms,
    plan: str | None = None,
    targets: str = "",
    valid_for_ms: int = WEEK_MS,
) -> Signoff:
    """One sign-off of a content for these targets (`Targets.text()`); `plan` is the dry
    run's summary (JSON) the approver was shown."""
    async with control_plane(url, namespace) as plane:
        return await approve(
            plane,
            area,
            sha256,
            experiment,
            claimed,
            clock(),
            plan,
            targets=targets,
            valid_for_ms=valid_for_ms,
        )


async def show_approvals(
    url: str,
    sha256: str,
    required: tuple[str, ...],
    *,
    namespace: str = "chaosbus",
    distinct: bool = True,
    clock: Clock = wall_clock_ms,
) -> ApprovalState:
    """The sign-offs of one content, whatever their targets (a run checks those); expired
    ones and ones without their audit entry do not count."""
    async with control_plane(url, namespace) as plane:
        return await approval_state(plane, sha256, required, distinct=distinct, now_ms=clock())


@dataclass(frozen=True, slots=True)
class Applied:
    users: int
    default_off: bool  # False: the caller is `default` itself, so it was left on
    library: str


async def apply_acl(url: str, users: Sequence[AclUser], namespace: str) -> Applied:
    """Load the functions, send the ACL SETUSER commands with the caller's (admin)
    credential, then turn the `default` user off — unless the caller is `default`, which
    would lock everyone out (the roles have no password yet)."""
    async with control_plane(url, namespace) as plane:
        library = await plane.call(load_library(plane.client), "load the functions")
        for command in setuser_commands(users, namespace):
            sent = plane.client.execute_command(*command)  # type: ignore[no-untyped-call]
            await plane.call(sent, "change ACL users")
        if plane.user == "default":
            return Applied(len(users), False, library)
        sent = plane.client.execute_command(*DEFAULT_OFF)  # type: ignore[no-untyped-call]
        await plane.call(sent, "turn the default user off")
        return Applied(len(users), True, library)


async def require_approvals(url: str, areas: tuple[str, ...], namespace: str = "chaosbus") -> None:
    """The namespace's policy (admin): these areas must sign every run; () clears it."""
    async with control_plane(url, namespace) as plane:
        if areas:
            write = plane.client.hset(plane.keys.policy, "approvals", ",".join(areas))
        else:
            write = plane.client.hdel(plane.keys.policy, "approvals")
        await plane.call(write, "set the approvals policy (needs the admin role)")
