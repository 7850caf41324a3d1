"""Where the broker and Redis are, and how to reach them: flag, environment, file, local stack.

Every command resolves its addresses here (`chaosbus.commands.options` declares the flags),
so each variable below is read in one place and the same way:

    CHAOSBUS_BOOTSTRAP, CHAOSBUS_KAFKA_CONFIG, CHAOSBUS_KAFKA_*   resolve_kafka
    CHAOSBUS_REDIS                                                resolve_redis
    CHAOSBUS_HTTP_UPSTREAM                                        resolve_http_upstream
    CHAOSBUS_TOPIC_*, CHAOSBUS_LEDGER_RETENTION_MS                resolve_topic_policy
    CHAOSBUS_HISTORY (CHAOSBUS_HOME)                              resolve_history
    CHAOSBUS_LABELS                                               resolve_labels
    GITHUB_STEP_SUMMARY                                           step_summary_path

`given_bootstrap` and `given_redis` stop before the local stack: an address the user gave,
or None (the demo starts the local stack then).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from chaosbus.clients.connection import KafkaSettings
from chaosbus.errors import InvalidInput
from chaosbus.history.labels import labels_from_text, merged, parse_labels
from chaosbus.history.location import Location, default_location, parse_location
from chaosbus.kafka_properties import (
    fields_from_environment,
    fields_from_properties,
    parse_properties,
    validated,
)
from chaosbus.local.stack import (
    DEFAULT_KAFKA_PORT,
    DEFAULT_REDIS_PORT,
    default_home,
    recorded_addresses,
)
from chaosbus.streams.topics import DEFAULT_LEDGER_RETENTION_MS, TopicPolicy

KAFKA_CONFIG_ENV = "CHAOSBUS_KAFKA_CONFIG"
BOOTSTRAP_ENV = "CHAOSBUS_BOOTSTRAP"
REDIS_ENV = "CHAOSBUS_REDIS"
HTTP_UPSTREAM_ENV = "CHAOSBUS_HTTP_UPSTREAM"
HISTORY_ENV = "CHAOSBUS_HISTORY"
LABELS_ENV = "CHAOSBUS_LABELS"
STEP_SUMMARY_ENV = "GITHUB_STEP_SUMMARY"


def given_bootstrap(flag: str | None = None) -> str | None:
    """The Kafka address the user gave: `--bootstrap`, else CHAOSBUS_BOOTSTRAP, else None."""
    return flag or os.environ.get(BOOTSTRAP_ENV) or None


def resolve_bootstrap(flag: str | None = None) -> str:
    return (
        given_bootstrap(flag)
        or recorded_addresses().get("bootstrap")
        or f"127.0.0.1:{DEFAULT_KAFKA_PORT}"
    )


def resolve_kafka(
    flag_bootstrap: str | None = None, flag_config: str | Path | None = None
) -> KafkaSettings:
    """Flag > environment > properties file > local stack > defaults, field by field.

    The file is `--kafka-config` or CHAOSBUS_KAFKA_CONFIG; the address is `--bootstrap`,
    CHAOSBUS_BOOTSTRAP, the file's bootstrap.servers, then the running local stack's.
    """
    config = flag_config or os.environ.get(KAFKA_CONFIG_ENV)
    fields: dict[str, Any] = {}
    source = "CHAOSBUS_KAFKA_* environment"
    if config:
        source = str(config)
        fields.update(fields_from_properties(parse_properties(_read(Path(config))), source=source))
    fields.update(fields_from_environment(os.environ))
    from_file = fields.pop("bootstrap", None)
    fields = validated(fields, source=source)
    bootstrap = (
        given_bootstrap(flag_bootstrap)
        or from_file
        or recorded_addresses().get("bootstrap")
        or f"127.0.0.1:{DEFAULT_KAFKA_PORT}"
    )
    return KafkaSettings(bootstrap, **fields)


def kafka_from_file(path: Path) -> KafkaSettings:
    """The settings a client properties file alone gives (no flag, no environment)."""
    source = str(path)
    fields = validated(
        fields_from_properties(parse_properties(_read(path)), source=source), source=source
    )
    bootstrap = fields.pop("bootstrap", None)
    if not bootstrap:
        raise InvalidInput(f"{source}: bootstrap.servers is missing")
    return KafkaSettings(bootstrap, **fields)


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError as exc:
        raise InvalidInput(f"cannot read the Kafka client config {path}: {exc.strerror}") from exc


def given_redis(flag: str | None = None) -> str | None:
    """The Redis URL the user gave: `--redis`, else CHAOSBUS_REDIS, else None."""
    return flag or os.environ.get(REDIS_ENV) or None


def resolve_redis(flag: str | None = None) -> str:
    return (
        given_redis(flag)
        or recorded_addresses().get("redis")
        or f"redis://127.0.0.1:{DEFAULT_REDIS_PORT}/0"
    )


def resolve_http_upstream(flag: str | None = None) -> str | None:
    """`run --http-upstream`, else CHAOSBUS_HTTP_UPSTREAM, else None (the file's upstream)."""
    return flag or os.environ.get(HTTP_UPSTREAM_ENV) or None


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


def resolve_history(flag: str | None = None, *, off: bool = False) -> Location | None:
    """Where runs are recorded: `--history`, else CHAOSBUS_HISTORY, else `history.sqlite`
    under CHAOSBUS_HOME; None with `--no-history`."""
    if off:
        return None
    if flag:
        return parse_location(flag)
    from_env = os.environ.get(HISTORY_ENV, "").strip()
    if from_env:
        return parse_location(from_env, origin=HISTORY_ENV)
    return default_location(default_home())


def resolve_labels(flags: list[str] | None = None) -> dict[str, str]:
    """CHAOSBUS_LABELS (`name=value,…`), then each `--label NAME=VALUE` over it by name."""
    from_env = labels_from_text(os.environ.get(LABELS_ENV, ""), origin=LABELS_ENV)
    return merged(from_env, parse_labels(flags or ()))


def step_summary_path() -> Path | None:
    """GitHub Actions' job summary file, when a step runs there."""
    value = os.environ.get(STEP_SUMMARY_ENV, "").strip()
    return Path(value) if value else None
