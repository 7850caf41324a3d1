"""Downstream probes: read what the service under test holds, never write it.

The runner is written against the one-method `Probe` protocol, so the monitors' own probes
can replace `RedisStateProbe` when they land without touching the runner.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import redis.asyncio as aioredis

from chaosbus.experiment.monitor import RedisProbe
from monitors.extractors import to_number
from monitors.history import Number, Observation


class Probe(Protocol):
    async def observe(self, entities: Sequence[str], now_ms: int) -> list[Observation]:
        """One observation per entity, taken at `now_ms`; `value` None means absent."""
        ...


class RedisStateProbe:
    """Reads `key` (a hash field or a string) of each entity with one pipelined round trip."""

    def __init__(self, client: aioredis.Redis, spec: RedisProbe, key_prefix: str = "") -> None:
        self._client = client
        self._spec = spec
        self._prefix = key_prefix

    async def observe(self, entities: Sequence[str], now_ms: int) -> list[Observation]:
        if not entities:
            return []
        spec = self._spec
        pipe = self._client.pipeline(transaction=False)
        for entity in entities:
            key = spec.key_for(entity, self._prefix)
            if spec.field is None:
                pipe.get(key)
            elif spec.deleted_field is None:
                pipe.hget(key, spec.field)
            else:
                pipe.hmget(key, [spec.field, spec.deleted_field])
        values = await pipe.execute()
        return [
            Observation(entity, now_ms, self._value(raw))
            for entity, raw in zip(entities, values, strict=True)
        ]

    def _value(self, raw: Any) -> Number | None:
        if isinstance(raw, list):  # [value, tombstone marker]
            value, deleted = raw
            if deleted not in (None, "0", b"0", "", b""):
                return None
            raw = value
        return None if raw is None else to_number(raw)
