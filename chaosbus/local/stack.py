"""`chaosbus local up|down|status`: the broker, Redis and PostgreSQL, and where to find them.

The addresses of a running stack are written to `<home>/addresses.json`, which other
commands and the test fixtures read; `CHAOSBUS_BOOTSTRAP`, `CHAOSBUS_REDIS` and
`CHAOSBUS_POSTGRES` override it. PostgreSQL joins the stack when its binaries are found
(a probe and the demo's SQL ledger need it; Kafka and Redis are needed by everything), or
is left out with `postgres=False`.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path

from chaosbus.errors import StackError
from chaosbus.local.kafka_node import KafkaNode, libs_dir, resolve_jars
from chaosbus.local.postgres_node import PostgresNode, postgres_available
from chaosbus.local.redis_node import RedisNode

DEFAULT_KAFKA_PORT = 19092
DEFAULT_REDIS_PORT = 16379
DEFAULT_POSTGRES_PORT = 15432


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
    postgres_running: bool = False
    postgres_dsn: str | None = None  # None: PostgreSQL is not installed

    def lines(self) -> list[str]:
        def state(up: bool) -> str:
            return "running" if up else "stopped"

        lines = [
            f"kafka     {state(self.kafka_running):8} {self.bootstrap}",
            f"redis     {state(self.redis_running):8} {self.redis_url}",
        ]
        if self.postgres_dsn is None:
            lines.append("postgres  absent   (PostgreSQL is not installed)")
        else:
            lines.append(f"postgres  {state(self.postgres_running):8} {self.postgres_dsn}")
        return lines

    def env(self) -> list[str]:
        """Shell exports of the addresses, for `eval "$(chaosbus local status --env)"`."""
        exports = [
            f"export CHAOSBUS_BOOTSTRAP={self.bootstrap}",
            f"export CHAOSBUS_REDIS={self.redis_url}",
        ]
        if self.postgres_running and self.postgres_dsn is not None:
            exports.append(f"export CHAOSBUS_POSTGRES={self.postgres_dsn}")
        return exports


@dataclass(frozen=True)
class LocalStack:
    home: Path
    cache: Path
    kafka_port: int = DEFAULT_KAFKA_PORT
    redis_port: int = DEFAULT_REDIS_PORT
    postgres_port: int = DEFAULT_POSTGRES_PORT
    postgres: bool = False  # the CLI turns it on; tests start their own (postgres_dsn)

    @classmethod
    def default(cls, *, postgres: bool = False) -> LocalStack:
        """The stack under CHAOSBUS_HOME, on CHAOSBUS_{KAFKA,REDIS,POSTGRES}_PORT if set."""
        return cls(
            home=default_home() / "local",
            cache=default_cache(),
            kafka_port=_port_from_env("CHAOSBUS_KAFKA_PORT", DEFAULT_KAFKA_PORT),
            redis_port=_port_from_env("CHAOSBUS_REDIS_PORT", DEFAULT_REDIS_PORT),
            postgres_port=_port_from_env("CHAOSBUS_POSTGRES_PORT", DEFAULT_POSTGRES_PORT),
            postgres=postgres,
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

    def postgres_node(self) -> PostgresNode:
        return PostgresNode(home=self.home / "postgres", port=self.postgres_port)

    def up(self) -> StackStatus:
        redis, kafka, pg = self.redis(), self.kafka(), self.postgres_node()
        with_pg = self.postgres and postgres_available()
        if not redis.running():
            ensure_free(redis.port, "CHAOSBUS_REDIS_PORT")
        if not kafka.running():
            ensure_free(kafka.port, "CHAOSBUS_KAFKA_PORT")
            ensure_free(kafka.controller_port, "CHAOSBUS_KAFKA_PORT")
        if with_pg and not pg.running():
            ensure_free(pg.port, "CHAOSBUS_POSTGRES_PORT")
        redis.start()
        if with_pg:
            pg.start()
        resolve_jars(self.cache)
        kafka.start()
        addresses = {"bootstrap": kafka.bootstrap, "redis": redis.url}
        if with_pg:
            addresses["postgres"] = pg.dsn
        self.addresses_file.write_text(json.dumps(addresses) + "\n")
        return self.status()

    def down(self) -> StackStatus:
        self.kafka().stop()
        self.redis().stop()
        self.postgres_node().stop()
        self.addresses_file.unlink(missing_ok=True)
        return self.status()

    def status(self) -> StackStatus:
        kafka, redis, pg = self.kafka(), self.redis(), self.postgres_node()
        return StackStatus(
            kafka_running=kafka.running(),
            redis_running=redis.running(),
            bootstrap=kafka.bootstrap,
            redis_url=redis.url,
            postgres_running=pg.running(),
            postgres_dsn=pg.dsn if postgres_available() else None,
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
