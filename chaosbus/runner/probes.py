"""The runner's downstream probes: the monitors' own, opened for one check of an experiment.

A check reads either state per entity (`StateProbe`: redis, http with `{entity}`, sql with
`%(entity)s`) or effects that name their events: a listing read whole on every poll
(`EffectsProbe`: http without `{entity}`, sql without `%(entity)s`) or an effects topic
read as a stream (kafka; the session and `chaosbus check` read it with the Kafka readers).

One experiment file can judge several services that share a Redis under different
prefixes (the demo's `naive:` and `safe:`), so the prefix is a run option, not part of
the file; it applies to Redis keys only.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Protocol

from chaosbus.experiment.monitor import Probe as ProbeSpec
from chaosbus.experiment.monitor import reads_effects
from chaosbus.monitors.history import Effect
from chaosbus.monitors.probes import Probe
from chaosbus.monitors.probes.http_probe import HttpProbe, HttpProbeConfig
from chaosbus.monitors.probes.kafka_reader import EffectsConfig
from chaosbus.monitors.probes.redis_probe import RedisProbe, RedisProbeConfig
from chaosbus.monitors.probes.sql_probe import SqlProbe, SqlProbeConfig


class EffectsProbe(Protocol):
    unparsable: int

    async def effects(self, now_ms: int) -> list[Effect]:
        """Every effect listed now, each seen at `now_ms`."""
        ...


def prefixed(config: RedisProbeConfig, prefix: str) -> RedisProbeConfig:
    return config.model_copy(update={"key": prefix + config.key}) if prefix else config


def redis_probe(url: str, config: RedisProbeConfig, prefix: str = "") -> RedisProbe:
    """An async context manager; read-only."""
    return RedisProbe(url, prefixed(config, prefix))


def state_probe(
    config: ProbeSpec, redis_url: str, prefix: str = ""
) -> AbstractAsyncContextManager[Probe]:
    """The probe of a check that reads state per entity (see `reads_effects`)."""
    if isinstance(config, RedisProbeConfig):
        return redis_probe(redis_url, config, prefix)
    if isinstance(config, HttpProbeConfig) and not config.reads_effects:
        return HttpProbe(config)
    if isinstance(config, SqlProbeConfig) and not config.reads_effects:
        return SqlProbe(config)
    raise ValueError(f"a {config.kind} probe that reads effects has no per-entity state")


def effects_probe(config: ProbeSpec) -> AbstractAsyncContextManager[HttpProbe | SqlProbe]:
    """The probe of a check whose effects are a listing (not a topic)."""
    if isinstance(config, HttpProbeConfig | SqlProbeConfig) and config.reads_effects:
        return HttpProbe(config) if isinstance(config, HttpProbeConfig) else SqlProbe(config)
    raise ValueError(f"a {config.kind} probe of this shape lists no effects")


def effects_topic(config: ProbeSpec) -> EffectsConfig | None:
    return config if isinstance(config, EffectsConfig) else None


def probe_shape(config: ProbeSpec) -> str:
    """`state`, `listing` or `topic`: how the runner reads this probe."""
    if isinstance(config, EffectsConfig):
        return "topic"
    return "listing" if reads_effects(config) else "state"


__all__ = [
    "EffectsProbe",
    "Probe",
    "RedisProbe",
    "effects_probe",
    "effects_topic",
    "prefixed",
    "probe_shape",
    "redis_probe",
    "state_probe",
]
