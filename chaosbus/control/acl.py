"""Redis ACL rules per role (pure): who may run, approve, kill, release and read the log.

    reader    read the kill switch, the pauses, the audit log and approvals; writes nothing
    operator  reader + run experiments and proxies (their audit entries), engage the kill
              switch, pause and resume a scope; reads any key (the probes read the service's
              keys); may not release the switch, sign off, or remove anything
    approver  reader + sign off for its areas, as itself; may not kill, pause or run
    admin     everything: releasing the kill switch, loading the functions, users

Every control-plane write is a function of the server (`chaosbus_v1.lua`, FCALL). Redis
runs a function's commands with the caller's permissions, so each role also holds the few
writes its functions make, each on its own keys through a selector: INCR on the kill count
and the audit sequence, RPUSH on its own audit list, SET on its sign-offs (approvers) and
on the last kill's note (operators), HSET/HDEL on the pauses. None of them removes,
reorders or jams anything: a raw INCR engages the switch or leaves a gap `audit --verify`
names, a raw RPUSH is an entry under the writer's own name. No role but admin holds SET,
DEL, XADD, EXPIRE or any other write on the control keys (docs/decisions/0300).

chaosbus names the Redis user (`ACL WHOAMI`) as the actor and the functions check it. Why
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
_READ = ("+get", "+exists", "+scan", "+type", "+lrange", "+lindex", "+llen", "+pttl")
# The scoped switches (`control.scopes`): read by every watcher.
_SCOPES_READ = ("+hgetall", "+hexists")
# A function reads the server's clock and is called with FCALL; nothing else runs scripts.
_FUNCTIONS = ("+fcall", "+time")
_WATCH = ("+subscribe", "+unsubscribe")


@dataclass(frozen=True, slots=True)
class AclUser:
    name: str
    role: Role
    areas: tuple[str, ...] = ()  # approver only: the areas it may sign; empty = any


def _audit_writes(name: str, ns: str) -> list[str]:
    """What every writing role's functions append with: the sequence and its own list."""
    return [f"(+incr ~{ns}:audit:seq)", f"(+rpush ~{ns}:audit:by:{name})"]


def rules(user: AclUser, namespace: str) -> list[str]:
    """The ACL SETUSER rules of one user (passwords are set apart, never printed)."""
    ns = namespace
    # clearselectors: applying again replaces a user's selectors instead of adding to them.
    base = ["on", "resetkeys", "resetchannels", "clearselectors", "-@all", *_CONNECT]
    if user.role == "admin":
        return ["on", "resetkeys", "resetchannels", "clearselectors", "+@all", "~*", "&*"]
    if user.role == "reader":
        return [*base, *_READ, *_SCOPES_READ, *_WATCH, f"%R~{ns}:*", f"&{ns}:control"]
    if user.role == "operator":
        return [
            *base,
            "+@read",
            *_FUNCTIONS,
            *_WATCH,
            "+publish",
            "%R~*",
            f"&{ns}:control",
            f"(+incr ~{ns}:kills)",
            f"(+set ~{ns}:kill:last)",
            f"(+hset +hdel ~{ns}:paused)",
            *_audit_writes(user.name, ns),
        ]
    areas = user.areas or ("*",)
    signs = " ".join(f"~{ns}:approval:{area}:*:{user.name}" for area in areas)
    return [
        *base,
        *_READ,
        *_SCOPES_READ,
        *_WATCH,
        *_FUNCTIONS,
        f"%R~{ns}:*",
        f"&{ns}:control",
        f"(+set {signs})",
        *_audit_writes(user.name, ns),
    ]


def setuser_commands(users: Sequence[AclUser], namespace: str) -> list[list[str]]:
    """`ACL SETUSER` argument lists, to print or to send with the admin's credential."""
    return [["ACL", "SETUSER", u.name, *rules(u, namespace)] for u in users]


_RESETS = ("resetkeys", "resetchannels", "clearselectors")


def aclfile_lines(users: Sequence[AclUser], namespace: str, passwords: dict[str, str]) -> list[str]:
    """Lines of a redis-server `aclfile` (tests start one with these)."""
    out = []
    for u in users:
        rule = [r for r in rules(u, namespace) if r not in _RESETS]
        out.append(" ".join(["user", u.name, rule[0], f">{passwords[u.name]}", *rule[1:]]))
    return out


def parse_user(text: str, role: Role) -> AclUser:
    """`NAME` or, for approvers, `NAME=AREA,AREA`."""
    name, _, areas = text.partition("=")
    return AclUser(name, role, tuple(a for a in areas.split(",") if a))


def default_users() -> list[AclUser]:
    return [AclUser(role, role) for role in ROLES]


# `control acl --apply` ends with this: the `default` user is `nopass +@all` until told not
# to be, which would make every role above moot.
DEFAULT_OFF = ["ACL", "SETUSER", "default", "off", "resetpass", "-@all", "resetkeys"]
