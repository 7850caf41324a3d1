"""`chaosbus local up|down|status`: the broker and Redis together, and where to find them.

The addresses of a running stack are written to `<home>/addresses.json`, which other
commands and the test fixtures read; `CHAOSBUS_BOOTSTRAP` and `CHAOSBUS_REDIS` override it.
With `--secure` it also names the SASL_SSL listener and its `client.properties`.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
from dataclasses import dataclass, field, replace
from pathlib import Path

from chaosbus.control import commands as control_commands
from chaosbus.errors import StackError
from chaosbus.local.kafka_node import KafkaNode, libs_dir, resolve_jars
from chaosbus.local.redis_node import RedisNode
from chaosbus.local.secure import SecureListener
from streams.redaction import redact_url

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
    redis_url: str = field(repr=False)  # may carry a password; `lines()` redacts it
    secure_bootstrap: str | None = None  # the SASL_SSL listener, with `local up --secure`
    kafka_config: str | None = None  # its client.properties

    def lines(self) -> list[str]:
        def state(up: bool) -> str:
            return "running" if up else "stopped"

        lines = [f"kafka  {state(self.kafka_running):8} {self.bootstrap}"]
        if self.secure_bootstrap:
            lines.append(
                f"kafka  {state(self.kafka_running):8} {self.secure_bootstrap} "
                f"(SASL_SSL; client config {self.kafka_config})"
            )
        return [*lines, f"redis  {state(self.redis_running):8} {redact_url(self.redis_url)}"]

    def env_lines(self) -> list[str]:
        # Whole, credentials included: these lines are meant for `eval`, not for a log.
        lines = [
            f"export CHAOSBUS_BOOTSTRAP={self.bootstrap}",
            f"export CHAOSBUS_REDIS={self.redis_url}",
        ]
        if self.secure_bootstrap:
            lines += [
                "# through the SASL_SSL listener instead:",
                f"# export CHAOSBUS_BOOTSTRAP={self.secure_bootstrap} "
                f"CHAOSBUS_KAFKA_CONFIG={self.kafka_config}",
            ]
        return lines


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

    @property
    def secure_dir(self) -> Path:
        return self.home / "kafka" / "secure"

    def kafka(self) -> KafkaNode:
        return KafkaNode(
            home=self.home / "kafka",
            libs=libs_dir(self.cache),
            port=self.kafka_port,
            controller_port=self.kafka_port + 1,
            secure=SecureListener.load(self.secure_dir),
        )

    def redis(self) -> RedisNode:
        return RedisNode(home=self.home / "redis", port=self.redis_port)

    def up(self, *, secure: bool = False) -> StackStatus:
        """Start what is stopped; `secure` adds a SASL_SSL listener to a node made new."""
        redis, kafka = self.redis(), self.kafka()
        if not redis.running():
            ensure_free(redis.port, "CHAOSBUS_REDIS_PORT")
        if not kafka.running():
            ensure_free(kafka.port, "CHAOSBUS_KAFKA_PORT")
            ensure_free(kafka.controller_port, "CHAOSBUS_KAFKA_PORT")
            if kafka.secure is not None:
                ensure_free(kafka.secure.port, f"a new stack (remove {self.secure_dir})")
        if secure and kafka.secure is None:
            kafka = self._secured(kafka)
        redis.start()
        resolve_jars(self.cache)
        kafka.start()
        addresses = {"bootstrap": kafka.bootstrap, "redis": redis.url}
        if kafka.secure is not None:
            addresses["secure_bootstrap"] = kafka.secure.bootstrap
            addresses["kafka_config"] = str(kafka.secure.client_properties_file)
        self.addresses_file.write_text(json.dumps(addresses) + "\n")
        # The stack's own Redis: its owner is its admin, so its kill switch starts released
        # (a no-op when it was already set up; docs/decisions/0050).
        asyncio.run(control_commands.init(redis.url, "local up"))
        return self.status()

    def _secured(self, kafka: KafkaNode) -> KafkaNode:
        # SCRAM credentials are written when the storage is formatted, so only a new node
        # can be given them.
        if kafka.running() or (kafka.data_dir / "meta.properties").exists():
            raise StackError(
                f"the local Kafka under {kafka.home} was made without --secure; stop it with "
                f"`chaosbus local down`, remove {kafka.home}, then run `chaosbus local up --secure`"
            )
        port = next_free_port(self.kafka_port + 2)
        return replace(kafka, secure=SecureListener.create(self.secure_dir, port))

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
            secure_bootstrap=kafka.secure.bootstrap if kafka.secure else None,
            kafka_config=str(kafka.secure.client_properties_file) if kafka.secure else None,
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


def next_free_port(start: int) -> int:
    for port in range(start, min(start + 100, 65535)):
        try:
            ensure_free(port, "")
        except StackError:
            continue
        return port
    raise StackError(f"no free port on 127.0.0.1 from {start} for the SASL_SSL listener")


def recorded_addresses(home: Path | None = None) -> dict[str, str]:
    path = (home or default_home() / "local") / "addresses.json"
    try:
        data = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    return {k: str(v) for k, v in data.items() if isinstance(v, str)}
