"""Sign-offs bound to one file content and the run's targets: `chaosbus approve FILE --role AREA`.

A sign-off is the key `<ns>:approval:<area>:<sha256>:<user>`, written only by the server's
`chaosbus_approve` function together with its audit entry (docs/decisions/0300): the user is
the authenticated Redis user, ACL selectors let an approver write only keys that end in its
own name (and, if so configured, only its areas). It counts only while

- its audit entry is there (same sequence number, same area, sha256, targets and expiry):
  a key written around the function (`SET …` by an approver) does not count;
- it has not expired (the server sets it to expire; the value says when, too);
- it covers this run's targets (`control.targets`): the same file pointed elsewhere is not
  approved, and the refusal names the difference;
- and, unless the file says `distinct_users: false`, every area is signed by a different user.

Editing the file changes its sha256: the old sign-offs no longer count (0053). A sign-off may
carry the dry run its approver was shown, under `plan` (0253).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from chaosbus.control.audit import AuditEntry
from chaosbus.control.chain import parsed
from chaosbus.control.errors import ApprovalsMissing
from chaosbus.control.plane import ControlPlane
from chaosbus.control.targets import Targets, difference

WEEK_MS = 7 * 86_400_000


def content_sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


@dataclass(frozen=True, slots=True)
class Signoff:
    area: str
    user: str
    at_ms: int
    plan: str | None = None  # the dry run's summary (JSON) the approver was shown
    targets: str = ""  # `Targets.text()` the approver signed for
    expires_ms: int = 0
    recorded: bool = True  # its audit entry is there


def assign(areas: tuple[str, ...], by: dict[str, list[str]]) -> dict[str, str] | None:
    """A different user for every area (a small matching), or None when there is none."""
    chosen: dict[str, str] = {}

    def place(i: int) -> bool:
        if i == len(areas):
            return True
        for user in by.get(areas[i], []):
            if user not in chosen.values():
                chosen[areas[i]] = user
                if place(i + 1):
                    return True
                del chosen[areas[i]]
        return False

    return dict(chosen) if place(0) else None


@dataclass(frozen=True, slots=True)
class ApprovalState:
    sha256: str
    required: tuple[str, ...]
    signoffs: tuple[Signoff, ...]
    targets: Targets | None = None  # None: show every sign-off (`chaosbus approvals`)
    distinct: bool = True
    now_ms: int = 0

    def counted(self, s: Signoff) -> bool:
        if not s.recorded or (self.now_ms and s.expires_ms <= self.now_ms):
            return False
        return self.targets is None or difference(s.targets, self.targets) is None

    @property
    def missing(self) -> tuple[str, ...]:
        by: dict[str, list[str]] = {}
        for s in self.signoffs:
            if self.counted(s):
                by.setdefault(s.area, []).append(s.user)
        unsigned = tuple(area for area in self.required if area not in by)
        if unsigned or not self.distinct:
            return unsigned
        if assign(self.required, by) is None:
            return self.required
        return ()

    def lines(self) -> list[str]:
        out = [f"sha256 {self.sha256}"]
        for area in self.required:
            by = [s for s in self.signoffs if s.area == area and self.counted(s)]
            who = ", ".join(s.user for s in by) if by else "MISSING"
            out.append(f"{area:<10} {who}")
        extra = sorted({s.area for s in self.signoffs} - set(self.required))
        out.extend(f"{area:<10} (not required) " for area in extra)
        if self.missing and all("MISSING" not in line for line in out[1:]):
            out.append("each area needs a different user (`distinct_users: false` allows one)")
        return out

    def why_not(self, area: str) -> str | None:
        """Why `area`'s sign-offs do not count, when it has some."""
        for s in self.signoffs:
            if s.area != area:
                continue
            if not s.recorded:
                return f"the {area} sign-off by {s.user} has no audit entry"
            if self.now_ms and s.expires_ms <= self.now_ms:
                return f"the {area} sign-off by {s.user} expired"
            if self.targets is not None:
                diff = difference(s.targets, self.targets)
                if diff is not None:
                    return (
                        f"the {area} sign-off by {s.user} is for other targets: this run's {diff}"
                    )
        return None

    def refuse_if_missing(self, file: str) -> None:
        missing = self.missing
        if not missing:
            return
        head = f"run refused: {file} (sha256 {self.sha256[:12]})"
        for area in missing:
            reason = self.why_not(area)
            if reason is not None:
                raise ApprovalsMissing(f"{head}: {reason}")
        unsigned = [a for a in missing if not any(s.area == a for s in self.signoffs)]
        if not unsigned:
            raise ApprovalsMissing(
                f"{head}: {', '.join(missing)} need a different approver each "
                "(`distinct_users: false` in `approvals:` allows one person several areas)"
            )
        raise ApprovalsMissing(
            f"{head} lacks sign-off by {', '.join(unsigned)}"
            f" (`chaosbus approve {file} --role AREA`)"
        )


def parse_key(key: str, namespace: str) -> tuple[str, str, str] | None:
    """(area, sha256, user) of a sign-off key, or None for anything else."""
    parts = key.removeprefix(f"{namespace}:approval:").split(":")
    if not key.startswith(f"{namespace}:approval:") or len(parts) != 3:
        return None
    return parts[0], parts[1], parts[2]


def entry_detail(area: str, sha256: str, targets: str, expires_ms: int) -> str:
    """What the server writes in a sign-off's audit entry (`chaosbus_v1.lua`)."""
    link = hashlib.sha1(targets.encode("utf-8")).hexdigest()  # as Redis does
    return f"{area} {sha256} targets {link} until {expires_ms}"


async def approve(
    plane: ControlPlane,
    area: str,
    sha256: str,
    experiment: str,
    claimed: str | None,
    now: int,
    plan: str | None = None,
    *,
    targets: str = "",
    valid_for_ms: int = WEEK_MS,
) -> Signoff:
    """Record one sign-off (with the dry run it was shown, if any) and its audit entry, on
    the server; `now` is unused (the server's clock stamps it)."""
    at_ms, expires_ms, _ = await plane.fcall(
        "chaosbus_approve",
        claimed,
        area,
        sha256,
        targets,
        experiment,
        plan,
        valid_for_ms,
        doing=f"sign off for {area!r}",
    )
    return Signoff(area, plane.user, int(at_ms), plan, targets, int(expires_ms))


async def signoffs(plane: ControlPlane, sha256: str) -> tuple[Signoff, ...]:
    found: list[Signoff] = []
    pattern = plane.keys.approvals_of(sha256)
    entries: dict[str, dict[str, AuditEntry]] = {}

    async def scan() -> list[str]:
        return [str(k) async for k in plane.client.scan_iter(match=pattern, count=500)]

    async def entries_of(user: str) -> dict[str, AuditEntry]:
        if user not in entries:
            rows = await plane.call(
                plane.client.lrange(plane.keys.audit_of(user), 0, -1), "read the audit log"
            )
            read = (AuditEntry.of_element(user, str(r)) for r in rows or [])
            entries[user] = {e.id or "": e for e in read if e is not None}
        return entries[user]

    for key in sorted(await plane.call(scan(), "read approvals")):
        key_parts = parse_key(key, plane.keys.namespace)
        if key_parts is None or key_parts[1] != sha256:
            continue
        area, _, user = key_parts
        raw = await plane.call(plane.client.get(key), "read approvals")
        stored = parsed(str(raw or ""))
        if stored is None:
            continue
        try:
            at_ms, expires_ms = int(stored.get("at_ms", "")), int(stored.get("expires_ms", ""))
        except ValueError:
            continue
        targets = stored.get("targets", "")
        entry = (await entries_of(user)).get(stored.get("seq", ""))
        recorded = (
            entry is not None
            and entry.action == "approve"
            and entry.detail == entry_detail(area, sha256, targets, expires_ms)
        )
        found.append(Signoff(area, user, at_ms, stored.get("plan"), targets, expires_ms, recorded))
    return tuple(found)


async def approval_state(
    plane: ControlPlane,
    sha256: str,
    required: tuple[str, ...],
    *,
    targets: Targets | None = None,
    distinct: bool = True,
    now_ms: int = 0,
) -> ApprovalState:
    return ApprovalState(sha256, required, await signoffs(plane, sha256), targets, distinct, now_ms)


async def refuse_unsigned_faults(plane: ControlPlane, command: str) -> None:
    """`proxy --fault`/`http --fault` under a namespace that requires approvals: refused,
    since a fault file cannot be signed off (only an experiment's content and targets can)."""
    areas = await plane.required_areas()
    if areas:
        raise ApprovalsMissing(
            f"{command} refused: namespace {plane.keys.namespace!r} requires sign-off by "
            f"{', '.join(areas)} for every fault; run an approved experiment (`chaosbus run`)"
        )
