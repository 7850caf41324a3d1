"""Redis ACL rules per role (pure): who may run, approve, kill, release and read the log.

    reader    read the kill switch, the audit log and approvals
    operator  reader + run experiments and proxies (append to the audit log), engage the
              kill switch (append to `<ns>:kills`), pause and resume a scope (`<ns>:paused`);
              reads any key (the probes read the service's keys); writes nothing else
    approver  reader + sign off (its own approval keys only) and audit that
    admin     everything, including releasing the kill switch (writing `<ns>:kill`)

The server enforces them; chaosbus names the Redis user (`ACL WHOAMI`) as the actor. Why
ACL users rather than signed tokens: docs/decisions/0052.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Role = Literal["reader", "operator", "approver", "admin"]
ROLES: tuple[Role, ...] = ("reader", "operator", "approver", "admin")

# What every chaosbus connection sends: PING and ACL WHOAMI (redis-py tolerates a refused
# CLIENT SETINFO, which Redis 7.0 does not know).
_CONNECT = ("+ping", "+acl|whoami", "+hello")
_READ = ("+get", "+exists", "+scan", "+xinfo|stream", "+xrange", "+xrevrange", "+xlen")
# The scoped switches (`control.scopes`): read by every watcher, written by operators.
_SCOPES_READ = ("+type", "+hgetall", "+hexists")
_SCOPES_WRITE = ("+hset", "+hdel")
_APPEND = ("+xadd", "+watch", "+unwatch", "+multi", "+exec", "+discard")
_WATCH = ("+subscribe", "+unsubscribe", "+publish")


@dataclass(frozen=True, slots=True)
class AclUser:
    name: str
    role: Role
    areas: tuple[str, ...] = ()  # approver only: the areas it may sign; empty = any


def rules(user: AclUser, namespace: str) -> list[str]:
    """The ACL SETUSER rules of one user (passwords are set apart, never printed)."""
    ns = namespace
    base = ["on", "resetkeys", "resetchannels", "-@all", *_CONNECT]
    if user.role == "admin":
        return ["on", "resetkeys", "resetchannels", "+@all", "~*", "&*"]
    if user.role == "reader":
        return [*base, *_READ, *_SCOPES_READ, f"%R~{ns}:*"]
    if user.role == "operator":
        return [
            *base,
            "+@read",
            *_APPEND,
            *_WATCH,
            *_SCOPES_WRITE,
            "%R~*",
            f"%W~{ns}:audit",
            f"%W~{ns}:kills",
            f"%W~{ns}:paused",
            f"&{ns}:control",
        ]
    areas = user.areas or ("*",)
    writes = [f"%W~{ns}:approval:{area}:*:{user.name}" for area in areas]
    return [
        *base,
        *_READ,
        *_SCOPES_READ,
        *_APPEND,
        "+set",
        f"%R~{ns}:*",
        f"%W~{ns}:audit",
        *writes,
    ]


def setuser_commands(users: Sequence[AclUser], namespace: str) -> list[list[str]]:
    """`ACL SETUSER` argument lists, to print or to send with the admin's credential."""
    return [["ACL", "SETUSER", u.name, *rules(u, namespace)] for u in users]


def aclfile_lines(users: Sequence[AclUser], namespace: str, passwords: dict[str, str]) -> list[str]:
    """Lines of a redis-server `aclfile` (tests start one with these)."""
    out = []
    for u in users:
        rule = [r for r in rules(u, namespace) if r not in ("resetkeys", "resetchannels")]
        out.append(" ".join(["user", u.name, rule[0], f">{passwords[u.name]}", *rule[1:]]))
    return out


def parse_user(text: str, role: Role) -> AclUser:
    """`NAME` or, for approvers, `NAME=AREA,AREA`."""
    name, _, areas = text.partition("=")
    return AclUser(name, role, tuple(a for a in areas.split(",") if a))


def default_users() -> list[AclUser]:
    return [AclUser(role, role) for role in ROLES]
