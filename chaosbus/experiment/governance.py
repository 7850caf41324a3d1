"""The experiment's governance sections: who must sign it off, and whom to tell.

    approvals: {required: [business, security, privacy]}
    notify: [{url: "https://hooks.example/chaos", events: [start, abort, kill, verdict]}]

Sign-offs are bound to the file's sha256 (`chaosbus approve FILE --role AREA`), so editing
the file voids them; see chaosbus.control.approvals.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Literal, Self
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from chaosbus.clients.redaction import misplaced_userinfo

NotifyEvent = Literal["start", "abort", "kill", "verdict"]
NOTIFY_EVENTS: tuple[NotifyEvent, ...] = ("start", "abort", "kill", "verdict")
AREA_PATTERN = r"^[a-z][a-z0-9_-]{0,31}$"
# Names that answer for a cloud's metadata service, whatever they resolve to from here.
METADATA_NAMES = frozenset({"metadata.google.internal", "metadata.goog"})


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
    """A URL to POST to. Link-local addresses (169.254.0.0/16, fe80::/10: where clouds
    answer metadata and credentials) are refused unless `allow_link_local: true`."""

    url: str = Field(pattern=r"^https?://[^\s]+$", max_length=2_000, repr=False)
    events: tuple[NotifyEvent, ...] = NOTIFY_EVENTS
    allow_link_local: bool = False

    @field_validator("url")
    @classmethod
    def _a_url_that_parses(cls, url: str) -> str:
        # Messages never echo the URL: it may carry a password.
        if misplaced_userinfo(url):
            raise PydanticCustomError(
                "webhook_url",
                "does not parse (not shown: it may hold a password); write / # ? @ in the "
                "user or password as %2F %23 %3F %40",
            )
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 -- parsing the port is the check
        except ValueError as exc:
            raise PydanticCustomError(
                "webhook_url", "does not parse (not shown: it may hold a password)"
            ) from exc
        if not parts.hostname:
            raise PydanticCustomError("webhook_url", "names no host")
        return url

    @model_validator(mode="after")
    def _not_link_local(self) -> Self:
        host = urlsplit(self.url).hostname or ""
        if not self.allow_link_local and is_link_local(host):
            raise PydanticCustomError(
                "webhook_target",
                "{host} is link-local (cloud metadata lives there); set allow_link_local: "
                "true on this webhook if that is really the target",
                {"host": host},
            )
        return self


def is_link_local(host: str) -> bool:
    """Whether `host` is a link-local address (IPv4 169.254/16, IPv6 fe80::/10, also as an
    IPv4-mapped IPv6 address) or a cloud metadata name. A name is judged again on the
    addresses it resolves to when the POST is made (`chaosbus.runner.notify`)."""
    if host.rstrip(".").lower() in METADATA_NAMES:
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_link_local


class Privacy(_Section):
    """`hashed`: keys, event ids and entities appear in the ledger and the report only as
    keyed hashes with a per-run salt that is never stored. Default `clear`: see
    docs/decisions/0055."""

    identifiers: Literal["hashed", "clear"] = "clear"
