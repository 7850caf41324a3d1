"""Key names of the control plane and the kill switch's state (pure: no Redis here).

The switch fails closed (docs/decisions/0050): it is *released* only while `<ns>:kill`
holds a well-formed released marker that covers the newest engagement in `<ns>:kills`.
Every other case — the key absent, any other value (`SET chaosbus:kill 1`), a kill newer
than the release — is *engaged*. Engaging appends to `<ns>:kills` (operators may append);
only releasing writes `<ns>:kill` (only admins may write it, see `chaosbus control acl`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, ValidationError


@dataclass(frozen=True, slots=True)
class Keys:
    namespace: str = "chaosbus"

    @property
    def kill(self) -> str:
        """The released marker; written by `unkill` and `control init` only."""
        return f"{self.namespace}:kill"

    @property
    def kills(self) -> str:
        """A stream of engagements, appended by `kill`; its last id is what a release covers."""
        return f"{self.namespace}:kills"

    @property
    def paused(self) -> str:
        """A hash of paused scopes, `route:`/`http:`/`fault:NAME` (`control.scopes`)."""
        return f"{self.namespace}:paused"

    @property
    def channel(self) -> str:
        return f"{self.namespace}:control"

    @property
    def audit(self) -> str:
        return f"{self.namespace}:audit"

    def approval(self, area: str, sha256: str, user: str) -> str:
        """One sign-off; the user is part of the key, so ACL rules bind it to the credential."""
        return f"{self.namespace}:approval:{area}:{sha256}:{user}"

    def approvals_of(self, sha256: str) -> str:
        """The SCAN pattern of every sign-off of one file content."""
        return f"{self.namespace}:approval:*:{sha256}:*"


DEFAULT_KEYS = Keys()


class KillState(BaseModel):
    """Who engaged the kill switch, why and when (epoch milliseconds)."""

    model_config = ConfigDict(frozen=True)

    actor: str
    reason: str | None = None
    at_ms: int

    def describe(self) -> str:
        why = f": {self.reason}" if self.reason else ""
        return f"kill switch engaged by {self.actor}{why}"


class Released(BaseModel):
    """The only value of `<ns>:kill` that means released: who, when, and up to which kill."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    state: str  # always "released"; anything else is not a release
    actor: str
    at_ms: int
    covers: str  # the id of the newest `<ns>:kills` entry this release ends ("0-0": none)


def released_value(actor: str, at_ms: int, covers: str) -> str:
    return Released(state="released", actor=actor, at_ms=at_ms, covers=covers).model_dump_json()


def stream_id(text: str) -> tuple[int, int]:
    """A Redis stream id as a comparable pair; a malformed one sorts above every real id."""
    ms, _, seq = text.partition("-")
    try:
        return int(ms), int(seq or 0)
    except ValueError:
        return (2**63, 2**63)


@dataclass(frozen=True, slots=True)
class SwitchState:
    """What the switch means now: engaged (and why) or released."""

    engaged: bool
    detail: str


def switch_state(
    raw: str | None, last_kill_id: str | None, last_kill: KillState | None
) -> SwitchState:
    """Judge the switch from the released marker and the newest engagement (fail closed)."""
    if raw is None:
        return SwitchState(
            True,
            "kill switch engaged: not released (first use: `chaosbus control init`; "
            "after that only an admin's `chaosbus unkill` releases it)",
        )
    try:
        released = Released.model_validate(json.loads(raw))
    except (ValueError, ValidationError):
        return SwitchState(True, "kill switch engaged: its key holds an unexpected value")
    if released.state != "released":
        return SwitchState(True, "kill switch engaged: its key holds an unexpected value")
    if last_kill_id is not None and stream_id(last_kill_id) > stream_id(released.covers):
        if last_kill is not None:
            return SwitchState(True, last_kill.describe())
        return SwitchState(True, "kill switch engaged")
    return SwitchState(False, f"kill switch released by {released.actor}")


def kill_from_fields(fields: dict[str, str]) -> KillState | None:
    try:
        return KillState(
            actor=fields.get("actor", "?"),
            reason=fields.get("reason") or None,
            at_ms=int(fields.get("at_ms", "0")),
        )
    except (ValueError, ValidationError):
        return None
