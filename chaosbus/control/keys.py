"""Key names of the control plane and the kill switch's state (pure: no Redis here).

The switch fails closed (docs/decisions/0050) and is judged by its own state alone
(docs/decisions/0300): it is *released* only while `<ns>:kill` holds a well-formed released
marker whose `covers` equals the number of engagements `<ns>:kills` counts. Every other
case — the marker absent or any other value (`SET chaosbus:kill 1`), a count above it (a
kill since the release), below it (a count deleted or reset) or not a count — is
*engaged*. Engaging increments `<ns>:kills` (operators may INCR it, nothing else); only
releasing writes `<ns>:kill` (admins). Both happen in the server's functions
(`chaosbus_v1.lua`); no stream id and no client clock is ever compared.
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
        """How many times the switch was engaged (INCR only); a release covers a count."""
        return f"{self.namespace}:kills"

    @property
    def last_kill(self) -> str:
        """Who engaged last and why (for people: never part of the judgement)."""
        return f"{self.namespace}:kill:last"

    @property
    def policy(self) -> str:
        """A hash an admin sets: `approvals` = `required` makes every run need sign-offs."""
        return f"{self.namespace}:policy"

    @property
    def paused(self) -> str:
        """A hash of paused scopes, `route:`/`http:`/`fault:NAME` (`control.scopes`)."""
        return f"{self.namespace}:paused"

    @property
    def channel(self) -> str:
        return f"{self.namespace}:control"

    @property
    def audit(self) -> str:
        """The prefix of the audit log's keys (`audit_seq`, `audit_of`)."""
        return f"{self.namespace}:audit"

    @property
    def audit_seq(self) -> str:
        """The audit log's sequence: how many entries were ever appended (INCR only)."""
        return f"{self.namespace}:audit:seq"

    def audit_of(self, user: str) -> str:
        """The entries `user` wrote, oldest first (RPUSH only, by that user alone)."""
        return f"{self.namespace}:audit:by:{user}"

    @property
    def audit_lists(self) -> str:
        """The SCAN pattern of every user's entries."""
        return f"{self.namespace}:audit:by:*"

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
    """The only value of `<ns>:kill` that means released: who, when, and how many kills."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    state: str  # always "released"; anything else is not a release
    actor: str
    at_ms: int
    covers: str  # the count of `<ns>:kills` this release ends ("0": none)


def released_value(actor: str, at_ms: int, covers: str) -> str:
    return Released(state="released", actor=actor, at_ms=at_ms, covers=covers).model_dump_json()


def kill_count(raw: str | None) -> int | None:
    """`<ns>:kills` as read: absent is 0; anything but a non-negative integer is None."""
    if raw is None:
        return 0
    text = raw.strip()
    return int(text) if text.isdigit() else None


@dataclass(frozen=True, slots=True)
class SwitchState:
    """What the switch means now: engaged (and why) or released."""

    engaged: bool
    detail: str


UNEXPECTED = "kill switch engaged: its key holds an unexpected value"


def switch_state(raw: str | None, kills: int | None, last_kill: KillState | None) -> SwitchState:
    """Judge the switch from the released marker and the kill count (fail closed)."""
    if raw is None:
        return SwitchState(
            True,
            "kill switch engaged: not released (first use: `chaosbus control init`; "
            "after that only an admin's `chaosbus unkill` releases it)",
        )
    try:
        released = Released.model_validate(json.loads(raw))
        covers = int(released.covers)
    except (ValueError, ValidationError):
        return SwitchState(True, UNEXPECTED)
    if released.state != "released" or kills is None:
        return SwitchState(True, UNEXPECTED)
    if kills > covers:
        return SwitchState(True, last_kill.describe() if last_kill else "kill switch engaged")
    if kills < covers:
        return SwitchState(
            True,
            f"kill switch engaged: {kills} kills counted, the release covers {covers} "
            "(the count was reset; an admin's `chaosbus unkill` covers it again)",
        )
    return SwitchState(False, f"kill switch released by {released.actor}")


def kill_from_json(raw: str | None) -> KillState | None:
    try:
        fields = json.loads(raw or "")
        return KillState(
            actor=str(fields.get("actor", "?")),
            reason=str(fields.get("reason") or "") or None,
            at_ms=int(fields.get("at_ms", "0")),
        )
    except (ValueError, TypeError, AttributeError, ValidationError):
        return None
