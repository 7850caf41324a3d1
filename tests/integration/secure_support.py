"""A private local stack with the SASL_SSL listener (`local up --secure`), for the session."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from chaosbus.clients.connection import KafkaSettings
from chaosbus.local.stack import LocalStack, default_cache
from chaosbus.settings import kafka_from_file
from chaosbus.testing import free_port_pair


@dataclass(frozen=True)
class SecureStack:
    kafka: KafkaSettings  # the SASL_SSL listener, read from the generated client.properties
    config_file: Path
    plain_bootstrap: str
    redis_url: str


def start_secure_stack(home: Path) -> tuple[LocalStack, SecureStack]:
    stack = LocalStack(
        home=home, cache=default_cache(), kafka_port=free_port_pair(), redis_port=free_port_pair()
    )
    status = stack.up(secure=True)
    if status.kafka_config is None:
        stack.down()
        raise RuntimeError("local up --secure reported no client config")
    config = Path(status.kafka_config)
    return stack, SecureStack(kafka_from_file(config), config, status.bootstrap, status.redis_url)
