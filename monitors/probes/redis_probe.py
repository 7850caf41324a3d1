"""Reads one Redis key per entity, read-only: a hash field, or a string holding a number.

For the `entity` model the number is the version the service holds, for `counter` its
total. A missing key or field is an absent entity; with `deleted_field`, a hash whose
marker is set (not "0" or empty) reads as absent too (services that keep tombstones).

The URL may carry AUTH and TLS (`rediss://`, see `clients.redis_client`); the probe pings
on entry, so refused credentials or an untrusted certificate fail the start, not every poll.

The `redis` probe kind (`KIND`), the default when a file names none: state per entity, the
run's key prefix put before the key (one file, several services sharing a Redis).
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Any, Literal, Self

import redis.asyncio as aioredis
from pydantic import BaseModel, ConfigDict, field_validator, model_validator
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from chaosbus.clients.errors import RedisUrlError
from chaosbus.clients.redaction import redact_text
from chaosbus.clients.redis_client import (
    describe_failure,
    failure_kind,
    redis_client,
)
from chaosbus.injectors.limits import Pattern
from chaosbus.monitors.errors import ProbeError
from chaosbus.monitors.extractors import to_number
from chaosbus.monitors.history import Number, Observation
from chaosbus.monitors.probes.kind import OpenedReader, ProbeContext, ProbeKind, state_reader

NOT_DELETED = (None, b"", b"0")


class RedisProbeConfig(BaseModel):
    """`key` is a template naming `{entity}`, e.g. `order:{entity}`."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    kind: Literal["redis"] = "redis"
    key: Pattern
    field: Pattern | None = None
    deleted_field: Pattern | None = None

    @field_validator("key")
    @classmethod
    def _names_entity(cls, value: str) -> str:
        if "{entity}" not in value:
            raise ValueError("the key template must contain {entity}, e.g. order:{entity}")
        return value

    @model_validator(mode="after")
    def _marker_needs_hash(self) -> Self:
        if self.deleted_field is not None and self.field is None:
            raise ValueError("deleted_field needs field: the marker lives in the same hash")
        return self

    def key_for(self, entity: str) -> str:
        return self.key.replace("{entity}", entity)


class RedisProbe:
    """`async with RedisProbe(url, config) as probe: await probe.observe(...)`."""

    def __init__(self, url: str, config: RedisProbeConfig) -> None:
        self.url = url
        self.config = config
        self.unparsable = 0
        self._client: aioredis.Redis | None = None

    async def __aenter__(self) -> Self:
        try:
            client = redis_client(self.url)
        except RedisUrlError as exc:
            raise ProbeError(str(exc)) from exc
        try:
            await client.ping()
        except (RedisError, OSError) as exc:
            await client.aclose()
            retriable = failure_kind(exc) == "unreachable"
            raise ProbeError(describe_failure(self.url, exc), retriable=retriable) from exc
        self._client = client
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def observe(self, entities: Sequence[str], now_ms: int) -> list[Observation]:
        if self._client is None:
            raise ProbeError("RedisProbe used outside its 'async with' block")
        if not entities:
            return []
        # One round trip for all entities; no transaction, as nothing is written.
        pipe = self._client.pipeline(transaction=False)
        cfg = self.config
        for entity in entities:
            key = cfg.key_for(entity)
            if cfg.field is None:
                pipe.get(key)
            elif cfg.deleted_field is None:
                pipe.hget(key, cfg.field)
            else:
                pipe.hmget(key, [cfg.field, cfg.deleted_field])
        try:
            raws = await pipe.execute()
        except (RedisConnectionError, RedisTimeoutError) as exc:
            retriable = failure_kind(exc) == "unreachable"
            raise ProbeError(describe_failure(self.url, exc), retriable=retriable) from exc
        except RedisError as exc:
            if failure_kind(exc) == "permission":  # an ACL user without read rights
                raise ProbeError(describe_failure(self.url, exc)) from exc
            raise ProbeError(f"redis could not read {cfg.key}: {redact_text(str(exc))}") from exc
        observations = []
        for entity, raw in zip(entities, raws, strict=True):
            readable, value = self._value(raw)
            if readable:
                observations.append(Observation(entity, now_ms, value))
        return observations

    def _value(self, raw: Any) -> tuple[bool, Number | None]:
        if isinstance(raw, list):  # [value, deleted marker]
            raw, marker = raw
            if marker not in NOT_DELETED:
                return True, None
        if raw is None:
            return True, None
        number = to_number(raw)
        if number is None:
            self.unparsable += 1
            return False, None
        return True, number


def _open(config: RedisProbeConfig, context: ProbeContext) -> OpenedReader:
    if context.key_prefix:
        config = config.model_copy(update={"key": context.key_prefix + config.key})
    return state_reader(RedisProbe(context.redis_url, config))


KIND = ProbeKind(name="redis", config=RedisProbeConfig, shape=lambda _: "state", open=_open)
