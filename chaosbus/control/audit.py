"""Audit entries: who did what, when, to which run. Stored as flat Redis stream fields."""

from __future__ import annotations

import getpass
import os
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from chaosbus.control.chain import parsed

Action = Literal[
    "start",
    "stop",
    "abort",
    "kill",
    "unkill",
    "verdict",
    "refused",
    "init",
    "approve",
    "pause",
    "resume",
]
ACTIONS: tuple[Action, ...] = (
    "start",
    "stop",
    "abort",
    "kill",
    "unkill",
    "verdict",
    "refused",
    "init",
    "approve",
    "pause",
    "resume",
)


def default_actor() -> str:
    """The OS user, which a shared CI runner or container may not have.

    Only a note (`os_user`) in audit entries: the actor is the authenticated Redis user."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return os.environ.get("USER") or f"uid-{os.getuid()}"


class AuditEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str | None = None  # the stream id Redis assigned; None before it is written
    action: str  # one of ACTIONS when written by chaosbus; kept as read otherwise
    actor: str
    at_ms: int
    run_id: str | None = None
    experiment: str | None = None
    detail: str | None = None
    # What the caller said it was (OS user, --actor); `actor` is the Redis credential's user.
    claimed: str | None = None

    def fields(self) -> dict[str, str | None]:
        return {
            "action": self.action,
            "actor": self.actor,
            "at_ms": str(self.at_ms),
            "run_id": self.run_id,
            "experiment": self.experiment,
            "detail": self.detail,
            "claimed": self.claimed,
        }

    @classmethod
    def of_element(cls, owner: str, element: str) -> AuditEntry | None:
        """An entry as the server stored it in `owner`'s list; its actor is the list's owner
        whatever its fields say (only that user may append there). None if unreadable."""
        fields = parsed(element)
        if fields is None or not fields.get("seq", "").isdigit():
            return None
        return cls.from_fields(fields["seq"], {**fields, "actor": owner})

    @classmethod
    def from_fields(cls, entry_id: str, fields: dict[str, str]) -> AuditEntry:
        return cls(
            id=entry_id,
            action=fields.get("action", "?"),
            actor=fields.get("actor", "?"),
            at_ms=int(fields.get("at_ms", "0")) if fields.get("at_ms", "0").isdigit() else 0,
            run_id=fields.get("run_id"),
            experiment=fields.get("experiment"),
            detail=fields.get("detail"),
            claimed=fields.get("claimed"),
        )

    def line(self) -> str:
        when = datetime.fromtimestamp(self.at_ms / 1000, tz=UTC).isoformat(timespec="seconds")
        parts = [when, f"{self.action:<8}", self.actor]
        if self.experiment:
            parts.append(self.experiment)
        if self.run_id:
            parts.append(f"run {self.run_id}")
        if self.detail:
            parts.append(f"— {self.detail}")
        return "  ".join(parts)


def new_entry(
    action: Action,
    actor: str,
    now_ms: int,
    *,
    run_id: str | None = None,
    experiment: str | None = None,
    detail: str | None = None,
) -> AuditEntry:
    return AuditEntry(
        action=action,
        actor=actor,
        at_ms=now_ms,
        run_id=run_id,
        experiment=experiment,
        detail=detail,
    )
