"""The experiment's governance sections: who must sign it off, and whom to tell.

    approvals: {required: [business, security, privacy]}
    notify: [{url: "https://hooks.example/chaos", events: [start, abort, kill, verdict]}]

Sign-offs are bound to the file's sha256 (`chaosbus approve FILE --role AREA`), so editing
the file voids them; see chaosbus.control.approvals.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

NotifyEvent = Literal["start", "abort", "kill", "verdict"]
NOTIFY_EVENTS: tuple[NotifyEvent, ...] = ("start", "abort", "kill", "verdict")
AREA_PATTERN = r"^[a-z][a-z0-9_-]{0,31}$"


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


DAY_S = 86_400


class Approvals(_Section):
    """Areas that must sign; by default each by a different user, each sign-off good for
    `valid_for_s` (a week; at most 30 days, which the server also enforces)."""

    required: tuple[str, ...] = Field(min_length=1, max_length=16)
    distinct_users: bool = True
    valid_for_s: int = Field(default=7 * DAY_S, ge=60, le=30 * DAY_S)

    @field_validator("required")
    @classmethod
    def _areas(cls, areas: tuple[str, ...]) -> tuple[str, ...]:
        for area in areas:
            if not re.fullmatch(AREA_PATTERN, area):
                raise PydanticCustomError(
                    "approval_area",
                    "'{area}' is not an area name (lower case letters, digits, - or _)",
                    {"area": area},
                )
        if len(set(areas)) != len(areas):
            raise PydanticCustomError("approval_area", "an area is listed twice")
        return areas


class Webhook(_Section):
    url: str = Field(pattern=r"^https?://[^\s]+$", max_length=2_000)
    events: tuple[NotifyEvent, ...] = NOTIFY_EVENTS


class Privacy(_Section):
    """`hashed`: keys, event ids and entities appear in the ledger and the report only as
    keyed hashes with a per-run salt that is never stored. Default `clear`: see
    docs/decisions/0055."""

    identifiers: Literal["hashed", "clear"] = "clear"
