"""`chaosbus local up|down|status`: the broker and Redis together, and where to find them.

The addresses of a running stack are written to `<home>/addresses.json`, which other
commands and the test fixtures read; `CHAOSBUS_BOOTSTRAP` and `CHAOSBUS_REDIS` override it.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path

from chaosbus.control import commands as control_commands
from chaosbus.errors import StackError
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
        """The stack under CHAOSBUS_HOME, on CHAOSBUS_KAFKA_PORT / CHAOSBUS_REDIS_PORT if set."""
        return cls(
            home=default_home() / "local",
            cache=default_cache(),
            kafka_port=_port_from_env("CHAOSBUS_KAFKA_PORT", DEFAULT_KAFKA_PORT),
            redis_port=_port_from_env("CHAOSBUS_REDIS_PORT", DEFAULT_REDIS_PORT),
        )

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
        redis, kafka = self.redis(), self.kafka()
        if not redis.running():
            ensure_free(redis.port, "CHAOSBUS_REDIS_PORT")
        if not kafka.running():
            ensure_free(kafka.port, "CHAOSBUS_KAFKA_PORT")
            ensure_free(kafka.controller_port, "CHAOSBUS_KAFKA_PORT")
        redis.start()
        resolve_jars(self.cache)
        kafka.start()
        self.addresses_file.write_text(
            json.dumps({"bootstrap": kafka.bootstrap, "redis": redis.url}) + "\n"
        )
        # The stack's own Redis: its owner is its admin, so its kill switch starts released
        # (a no-op when it was already set up; docs/decisions/0050).
        asyncio.run(control_commands.init(redis.url, "local up"))
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


def _port_from_env(name: str, default: int) -> int:
    text = os.environ.get(name)
    if not text:
        return default
    if not text.isdigit() or not 0 < int(text) < 65535:
        raise StackError(f"{name}={text!r}: expected a port number")
    return int(text)


def ensure_free(port: int, setting: str) -> None:
    """Fail with the port's name before a server dies on it with a log nobody reads."""
    with socket.socket() as probe:
        # As Kafka and redis-server do: then only a live listener is refused, not the
        # TIME_WAIT connections a just-stopped server leaves behind.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            raise StackError(
                f"port {port} on 127.0.0.1 is in use by another program; "
                f"stop it or choose another port with {setting}"
            ) from exc


def recorded_addresses(home: Path | None = None) -> dict[str, str]:
    path = (home or default_home() / "local") / "addresses.json"
    try:
        data = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    return {k: str(v) for k, v in data.items() if isinstance(v, str)}
