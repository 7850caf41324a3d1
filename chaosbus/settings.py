"""Where the broker and Redis are: flag, then environment, then the running local stack."""

from __future__ import annotations

import os
from collections.abc import Mapping

from chaosbus.errors import InvalidInput
from chaosbus.local.stack import DEFAULT_KAFKA_PORT, DEFAULT_REDIS_PORT, recorded_addresses
from streams.topics import DEFAULT_LEDGER_RETENTION_MS, TopicPolicy


def resolve_bootstrap(flag: str | None = None) -> str:
    return (
        flag
        or os.environ.get("CHAOSBUS_BOOTSTRAP")
        or recorded_addresses().get("bootstrap")
        or f"127.0.0.1:{DEFAULT_KAFKA_PORT}"
    )


def resolve_redis(flag: str | None = None) -> str:
    return (
        flag
        or os.environ.get("CHAOSBUS_REDIS")
        or recorded_addresses().get("redis")
        or f"redis://127.0.0.1:{DEFAULT_REDIS_PORT}/0"
    )


TOPIC_REPLICATION_ENV = "CHAOSBUS_TOPIC_REPLICATION"
LEDGER_RETENTION_ENV = "CHAOSBUS_LEDGER_RETENTION_MS"
TOPIC_MIN_INSYNC_ENV = "CHAOSBUS_TOPIC_MIN_INSYNC_REPLICAS"


def resolve_topic_policy(
    replication_factor: int | None = None,
    ledger_retention_ms: int | None = None,
    min_insync_replicas: int | None = None,
    *,
    file: Mapping[str, int | None] | None = None,
) -> TopicPolicy:
    """How chaosbus creates its topics: flag, then environment, then the experiment file's
    `internal_topics`, then the defaults (the broker's replication, a 7-day ledger)."""
    file = file or {}

    def pick(flag: int | None, env: str, key: str) -> int | None:
        if flag is not None:
            return flag
        from_env = _int_from_env(env)
        return from_env if from_env is not None else file.get(key)

    retention = pick(ledger_retention_ms, LEDGER_RETENTION_ENV, "ledger_retention_ms")
    try:
        return TopicPolicy(
            replication_factor=pick(
                replication_factor, TOPIC_REPLICATION_ENV, "replication_factor"
            ),
            ledger_retention_ms=DEFAULT_LEDGER_RETENTION_MS if retention is None else retention,
            min_insync_replicas=pick(
                min_insync_replicas, TOPIC_MIN_INSYNC_ENV, "min_insync_replicas"
            ),
        )
    except ValueError as exc:
        raise InvalidInput(f"internal topics: {exc}") from exc


def _int_from_env(name: str) -> int | None:
    text = os.environ.get(name, "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise InvalidInput(f"{name}={text!r}: expected a whole number") from None
