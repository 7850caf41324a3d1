"""The runner's downstream probes: the monitors' own, aimed at one service by a key prefix.

One experiment file can judge several services that share a Redis under different
prefixes (the demo's `naive:` and `safe:`), so the prefix is a run option, not part of
the file.
"""

from __future__ import annotations

from monitors.probes import Probe
from monitors.probes.redis_probe import RedisProbe, RedisProbeConfig


def prefixed(config: RedisProbeConfig, prefix: str) -> RedisProbeConfig:
    return config.model_copy(update={"key": prefix + config.key}) if prefix else config


def redis_probe(url: str, config: RedisProbeConfig, prefix: str = "") -> RedisProbe:
    """An async context manager; read-only."""
    return RedisProbe(url, prefixed(config, prefix))


__all__ = ["Probe", "RedisProbe", "prefixed", "redis_probe"]
