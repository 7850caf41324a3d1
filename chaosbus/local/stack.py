"""`chaosbus local up|down|status`: the broker and Redis together, and where to find them.

The addresses of a running stack are written to `<home>/addresses.json`, which other
commands and the test fixtures read; `CHAOSBUS_BOOTSTRAP` and `CHAOSBUS_REDIS` override it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from chaosbus.local.kafka_node import KafkaNode, libs_dir, resolve_jars
from chaosbus.local.redis_node import RedisNode

DEFAULT_KAFKA_PORT = 19092
DEFAULT_REDIS_PORT = 16379


def default_home() -> Path:
    return Path(os.environ.get("CHAOSBUS_HOME", Path.home() / ".chaosbus"))


def default_cache() -> Path:
    return Path(os.environ.get("CHAOSBUS_CACHE", Path.home() / ".cache" / "chaosbus"))


@dataclass(frozen=True)
class StackStatus:
    kafka_running: bool
    redis_running: bool
    bootstrap: str
    redis_url: str

    def lines(self) -> list[str]:
        def state(up: bool) -> str:
            return "running" if up else "stopped"

        return [
            f"kafka  {state(self.kafka_running):8} {self.bootstrap}",
            f"redis  {state(self.redis_running):8} {self.redis_url}",
        ]


@dataclass(frozen=True)
class LocalStack:
    home: Path
    cache: Path
    kafka_port: int = DEFAULT_KAFKA_PORT
    redis_port: int = DEFAULT_REDIS_PORT

    @classmethod
    def default(cls) -> LocalStack:
        return cls(home=default_home() / "local", cache=default_cache())

    @property
    def addresses_file(self) -> Path:
        return self.home / "addresses.json"

    def kafka(self) -> KafkaNode:
        return KafkaNode(
            home=self.home / "kafka",
            libs=libs_dir(self.cache),
            port=self.kafka_port,
            controller_port=self.kafka_port + 1,
        )

    def redis(self) -> RedisNode:
        return RedisNode(home=self.home / "redis", port=self.redis_port)

    def up(self) -> StackStatus:
        redis = self.redis()
        redis.start()
        resolve_jars(self.cache)
        kafka = self.kafka()
        kafka.start()
        self.addresses_file.write_text(
            json.dumps({"bootstrap": kafka.bootstrap, "redis": redis.url}) + "\n"
        )
        return self.status()

    def down(self) -> StackStatus:
        self.kafka().stop()
        self.redis().stop()
        self.addresses_file.unlink(missing_ok=True)
        return self.status()

    def status(self) -> StackStatus:
        kafka, redis = self.kafka(), self.redis()
        return StackStatus(
            kafka_running=kafka.running(),
            redis_running=redis.running(),
            bootstrap=kafka.bootstrap,
            redis_url=redis.url,
        )


def recorded_addresses(home: Path | None = None) -> dict[str, str]:
    path = (home or default_home() / "local") / "addresses.json"
    try:
        data = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    return {k: str(v) for k, v in data.items() if isinstance(v, str)}
