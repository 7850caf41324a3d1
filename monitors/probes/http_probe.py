"""Reads the service over HTTP, read-only (GET): one resource per entity, or an effects list.

- A URL template naming `{entity}` reads one resource per entity and a number at the JSON
  path (the version for `entity`, the total for `counter`). A status in `absent_statuses`
  (404, 410) or a JSON null at the path is an absent entity.
- A URL without `{entity}` is an effects endpoint: the JSON path names a list of event ids,
  one per effect the service performed (an id listed twice is two effects) - for `once`,
  and for counters whose effects name their events.

What each answer means (docs/experiments.md says the same to users):

| answer                                   | per entity (state)            | listing (effects)  |
| ---------------------------------------- | ----------------------------- | ------------------ |
| 2xx, a number at `json`                  | the observed value            | —                  |
| 2xx, `null` at `json`                    | absent                        | not a list: error  |
| 2xx, no number there (missing, text, …)  | unparsable: not observed      | not a list: error  |
| a status in `absent_statuses` (404, 410) | absent (deleted, or never there) | no effects      |
| another 4xx (400, 401, 403, …)           | the read fails (not retriable) | same              |
| 5xx, a timeout, a refused connection     | the read fails (retriable)    | same               |

A failed read is no observation of anything in it: the run counts it under `reads` and
never reads a failure as an absence (which would be a false `lost_event`). Standard library
only (`urllib` in worker threads), so the monitors add no dependency. The `http` probe kind
is `KIND`.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from types import TracebackType
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chaosbus.clients.redaction import redact_text, redact_url
from chaosbus.injectors.limits import ProbeTimeout
from chaosbus.monitors.errors import ProbeError
from chaosbus.monitors.extractors import MISSING, json_getter, to_number
from chaosbus.monitors.history import Effect, Number, Observation
from chaosbus.monitors.probes.kind import (
    OpenedReader,
    ProbeContext,
    ProbeKind,
    Shape,
    listing_reader,
    state_reader,
)


class HttpProbeConfig(BaseModel):
    """`url` names `{entity}` (URL-quoted on use), or not for effects; `json` a dotted path."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "kind": "http",
                    "url": "http://127.0.0.1:8080/orders/{entity}",
                    "json": "$.version",
                },
                {"kind": "http", "url": "http://127.0.0.1:8080/effects", "json": "$.event_ids"},
            ]
        },
    )

    kind: Literal["http"] = Field(default="http", description="Read the service over HTTP GET.")
    url: str = Field(
        description="http(s) URL. With `{entity}` (URL-quoted on use): one resource per entity, "
        "its state. Without: an effects listing, read whole on each read.",
        examples=["http://127.0.0.1:8080/orders/{entity}"],
    )
    json_path: str = Field(
        alias="json",
        pattern=r"^\$(\.[^.]+)*$",
        description="Dotted path into the JSON body: per entity, a number (the version for "
        "entity, the total for counter; null reads as absent); for a listing, a list of event ids.",
        examples=["$.version", "$.totals.paid", "$.event_ids"],
    )
    absent_statuses: tuple[int, ...] = Field(
        default=(404, 410),
        description="Statuses that mean the entity is absent (deleted, never created); a "
        "listing answering one lists no effects. Any other non-2xx status fails the read.",
    )
    timeout_s: ProbeTimeout = Field(
        default=5.0, description="Seconds per request; a slower answer fails the read."
    )
    concurrency: int = Field(default=8, ge=1, description="Requests in flight at once.")

    @field_validator("url")
    @classmethod
    def _is_http(cls, value: str) -> str:
        if urllib.parse.urlsplit(value).scheme not in ("http", "https"):
            raise ValueError("expected an http:// or https:// URL")
        return value

    @property
    def reads_effects(self) -> bool:
        return "{entity}" not in self.url

    def url_for(self, entity: str) -> str:
        return self.url.replace("{entity}", urllib.parse.quote(entity, safe=""))


class HttpProbe:
    """`async with HttpProbe(config) as probe: await probe.observe(...)`."""

    def __init__(self, config: HttpProbeConfig) -> None:
        self.config = config
        self.unparsable = 0
        self._get = json_getter(config.json_path)
        self._slots = asyncio.Semaphore(config.concurrency)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    async def observe(self, entities: Sequence[str], now_ms: int) -> list[Observation]:
        results = await asyncio.gather(*(self._one(entity) for entity in entities))
        return [
            Observation(entity, now_ms, value)
            for entity, (readable, value) in zip(entities, results, strict=True)
            if readable
        ]

    async def effects(self, now_ms: int) -> list[Effect]:
        """Every effect the endpoint lists now, each seen at `now_ms`."""
        status, body = await asyncio.to_thread(self._fetch, self.config.url)
        if status in self.config.absent_statuses:
            return []
        try:
            listed = self._get(json.loads(body))
        except ValueError:
            listed = MISSING
        if not isinstance(listed, list):
            shown = redact_url(self.config.url)
            raise ProbeError(f"GET {shown}: no list at {self.config.json_path}")
        effects = []
        for item in listed:
            if isinstance(item, str | int) and not isinstance(item, bool):
                effects.append(Effect(str(item), now_ms))
            else:
                self.unparsable += 1
        return effects

    async def _one(self, entity: str) -> tuple[bool, Number | None]:
        async with self._slots:
            status, body = await asyncio.to_thread(self._fetch, self.config.url_for(entity))
        if status in self.config.absent_statuses:
            return True, None
        try:
            raw = self._get(json.loads(body))
        except ValueError:
            raw = MISSING
        if raw is None:
            return True, None
        number = None if raw is MISSING else to_number(raw)
        if number is None:
            self.unparsable += 1
            return False, None
        return True, number

    def _fetch(self, url: str) -> tuple[int, bytes]:
        request = urllib.request.Request(url, headers={"Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.config.timeout_s) as response:
                body: Any = response.read()
                return int(response.status), bytes(body)
        except urllib.error.HTTPError as exc:
            if exc.code in self.config.absent_statuses:
                return exc.code, b""
            shown = redact_url(url)
            raise ProbeError(f"GET {shown}: HTTP {exc.code}", retriable=exc.code >= 500) from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            shown, reason = redact_url(url), redact_text(str(exc))
            raise ProbeError(f"GET {shown}: {reason}", retriable=True) from exc


def _shape(config: HttpProbeConfig) -> Shape:
    return "listing" if config.reads_effects else "state"


def _open(config: HttpProbeConfig, context: ProbeContext) -> OpenedReader:
    probe = HttpProbe(config)
    if config.reads_effects:
        return listing_reader(probe, from_now=context.from_now)
    return state_reader(probe)


KIND = ProbeKind(name="http", config=HttpProbeConfig, shape=_shape, open=_open)
