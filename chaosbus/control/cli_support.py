"""The async bodies of `chaosbus approve`, `approvals` and `control acl`, apart from the CLI."""

from __future__ import annotations

from collections.abc import Sequence

from chaosbus.contracts.clock import Clock, wall_clock_ms
from chaosbus.control.acl import AclUser, setuser_commands
from chaosbus.control.approvals import ApprovalState, Signoff, approval_state, approve
from chaosbus.control.plane import control_plane


async def sign_off(
    url: str,
    area: str,
    sha256: str,
    experiment: str,
    claimed: str | None,
    *,
    namespace: str = "chaosbus",
    clock: Clock = wall_clock_ms,
) -> Signoff:
    async with control_plane(url, namespace) as plane:
        return await approve(plane, area, sha256, experiment, claimed, clock())


async def show_approvals(
    url: str, sha256: str, required: tuple[str, ...], *, namespace: str = "chaosbus"
) -> ApprovalState:
    async with control_plane(url, namespace) as plane:
        return await approval_state(plane, sha256, required)


async def apply_acl(url: str, users: Sequence[AclUser], namespace: str) -> int:
    """Send the ACL SETUSER commands with the caller's (admin) credential."""
    async with control_plane(url, namespace) as plane:
        for command in setuser_commands(users, namespace):
            sent = plane.client.execute_command(*command)  # type: ignore[no-untyped-call]
            await plane.call(sent, "change ACL users")
        return len(users)
