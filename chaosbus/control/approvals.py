"""Sign-offs bound to one file content: `chaosbus approve FILE --role AREA`.

A sign-off is the key `<ns>:approval:<area>:<sha256>:<user>`: the user is the authenticated
Redis user, and the ACL rules of `chaosbus control acl` let an approver write only keys that
end in its own name (and, if so configured, only its areas), so identity is bound by the
server, not by what a client writes. Editing the file changes its sha256: the old sign-offs
no longer count (docs/decisions/0053).

A sign-off may carry what its approver was shown: the dry run's summary (`chaosbus plan`,
JSON), stored in the sign-off's own value under `plan` and read back with it. That is the
whole of how a summary is attached (docs/decisions/0253); the control plane stores it as
text and never reads inside it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from chaosbus.control.audit import new_entry
from chaosbus.control.errors import ApprovalsMissing
from chaosbus.control.plane import ControlPlane


def content_sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


@dataclass(frozen=True, slots=True)
class Signoff:
    area: str
    user: str
    at_ms: int
    plan: str | None = None  # the dry run's summary (JSON) the approver was shown


@dataclass(frozen=True, slots=True)
class ApprovalState:
    sha256: str
    required: tuple[str, ...]
    signoffs: tuple[Signoff, ...]

    @property
    def missing(self) -> tuple[str, ...]:
        signed = {s.area for s in self.signoffs}
        return tuple(area for area in self.required if area not in signed)

    def lines(self) -> list[str]:
        out = [f"sha256 {self.sha256}"]
        for area in self.required:
            by = [s for s in self.signoffs if s.area == area]
            who = ", ".join(s.user for s in by) if by else "MISSING"
            out.append(f"{area:<10} {who}")
        extra = sorted({s.area for s in self.signoffs} - set(self.required))
        out.extend(f"{area:<10} (not required) " for area in extra)
        return out

    def refuse_if_missing(self, file: str) -> None:
        if self.missing:
            raise ApprovalsMissing(
                f"run refused: {file} (sha256 {self.sha256[:12]}) lacks sign-off by "
                + ", ".join(self.missing)
                + f" (`chaosbus approve {file} --role AREA`)"
            )


def parse_key(key: str, namespace: str) -> tuple[str, str, str] | None:
    """(area, sha256, user) of a sign-off key, or None for anything else."""
    parts = key.removeprefix(f"{namespace}:approval:").split(":")
    if not key.startswith(f"{namespace}:approval:") or len(parts) != 3:
        return None
    return parts[0], parts[1], parts[2]


async def approve(
    plane: ControlPlane,
    area: str,
    sha256: str,
    experiment: str,
    claimed: str | None,
    now: int,
    plan: str | None = None,
) -> Signoff:
    """Record one sign-off (with the dry run it was shown, if any) and its audit entry in
    one transaction."""
    key = plane.keys.approval(area, sha256, plane.user)
    fields: dict[str, object] = {
        "area": area,
        "sha256": sha256,
        "at_ms": now,
        "experiment": experiment,
    }
    if plan is not None:
        fields["plan"] = plan
    value = json.dumps(fields)
    entry = new_entry(
        "approve", claimed or plane.user, now, experiment=experiment, detail=f"{area} {sha256}"
    )
    await plane.audit(
        entry, also=lambda pipe: pipe.set(key, value), doing=f"sign off for {area!r}"
    )
    return Signoff(area, plane.user, now, plan)


async def signoffs(plane: ControlPlane, sha256: str) -> tuple[Signoff, ...]:
    found: list[Signoff] = []
    pattern = plane.keys.approvals_of(sha256)

    async def scan() -> list[str]:
        return [str(k) async for k in plane.client.scan_iter(match=pattern, count=500)]

    for key in sorted(await plane.call(scan(), "read approvals")):
        parsed = parse_key(key, plane.keys.namespace)
        if parsed is None or parsed[1] != sha256:
            continue
        raw = await plane.call(plane.client.get(key), "read approvals")
        try:
            stored = json.loads(raw or "{}")
            at_ms = int(stored.get("at_ms", 0))
        except (ValueError, AttributeError):
            continue
        plan = stored.get("plan")
        found.append(Signoff(parsed[0], parsed[2], at_ms, plan if isinstance(plan, str) else None))
    return tuple(found)


async def approval_state(
    plane: ControlPlane, sha256: str, required: tuple[str, ...]
) -> ApprovalState:
    return ApprovalState(sha256, required, await signoffs(plane, sha256))
