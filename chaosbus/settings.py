"""Where the broker and Redis are, and how to reach them: flag, environment, file, local stack."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from chaosbus.errors import InvalidInput
from chaosbus.kafka_properties import (
    fields_from_environment,
    fields_from_properties,
    parse_properties,
    validated,
)
from chaosbus.local.stack import DEFAULT_KAFKA_PORT, DEFAULT_REDIS_PORT, recorded_addresses
from streams.connection import KafkaSettings

KAFKA_CONFIG_ENV = "CHAOSBUS_KAFKA_CONFIG"


def resolve_bootstrap(flag: str | None = None) -> str:
    return (
        flag
        or os.environ.get("CHAOSBUS_BOOTSTRAP")
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
        flag_bootstrap
        or os.environ.get("CHAOSBUS_BOOTSTRAP")
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


def resolve_redis(flag: str | None = None) -> str:
    return (
        flag
        or os.environ.get("CHAOSBUS_REDIS")
        or recorded_addresses().get("redis")
        or f"redis://127.0.0.1:{DEFAULT_REDIS_PORT}/0"
    )
