"""`chaosbus local up|down|status`: the broker, Redis and PostgreSQL, and where to find them.

The addresses of a running stack are written to `<home>/addresses.json`, which other
commands and the test fixtures read; `CHAOSBUS_BOOTSTRAP`, `CHAOSBUS_REDIS` and
`CHAOSBUS_POSTGRES` override it. PostgreSQL joins the stack when its binaries are found
(a probe and the demo's SQL ledger need it; Kafka and Redis are needed by everything), or
is left out with `postgres=False`.

`--brokers 3` starts a three-node KRaft cluster instead of one node: each node is broker and
controller (docs/decisions/0030), node i on ports base + 2(i-1) (client) and base + 2(i-1) + 1
(controller), with replication 3 and min.insync.replicas 2 as the cluster's defaults.
With `--secure` (one node only) it also names the SASL_SSL listener and its
`client.properties`.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from chaosbus.clients.redaction import redact_url
from chaosbus.control import operations
from chaosbus.errors import StackError
from chaosbus.local import process
from chaosbus.local.kafka_node import KafkaNode, libs_dir, new_cluster_id, resolve_jars
from chaosbus.local.postgres_node import PostgresNode, postgres_available
from chaosbus.local.redis_node import RedisNode
from chaosbus.local.secure import SecureListener

MAX_BROKERS = 5
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
    redis_url: str = field(repr=False)  # may carry a password; `lines()` redacts it
    brokers: int = 1
    secure_bootstrap: str | None = None  # the SASL_SSL listener, with `local up --secure`
    kafka_config: str | None = None  # its client.properties
    postgres_running: bool = False
    postgres_dsn: str | None = None  # None: PostgreSQL is not installed

    def lines(self) -> list[str]:
        def state(up: bool) -> str:
            return "running" if up else "stopped"

        nodes = f" ({self.brokers} brokers)" if self.brokers > 1 else ""
        lines = [f"kafka     {state(self.kafka_running):8} {self.bootstrap}{nodes}"]
        if self.secure_bootstrap:
            lines.append(
                f"kafka     {state(self.kafka_running):8} {self.secure_bootstrap} "
                f"(SASL_SSL; client config {self.kafka_config})"
            )
        lines.append(f"redis     {state(self.redis_running):8} {redact_url(self.redis_url)}")
        if self.postgres_dsn is None:
            lines.append("postgres  absent   (PostgreSQL is not installed)")
        else:
            lines.append(f"postgres  {state(self.postgres_running):8} {self.postgres_dsn}")
        return lines

    def env_lines(self) -> list[str]:
        """Shell exports of the addresses, for `eval "$(chaosbus local status --env)"`."""
        # Whole, credentials included: these lines are meant for `eval`, not for a log.
        lines = [
            f"export CHAOSBUS_BOOTSTRAP={self.bootstrap}",
            f"export CHAOSBUS_REDIS={self.redis_url}",
        ]
        if self.postgres_running and self.postgres_dsn is not None:
            lines.append(f"export CHAOSBUS_POSTGRES={self.postgres_dsn}")
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
    brokers: int = 1
    postgres_port: int = DEFAULT_POSTGRES_PORT
    postgres: bool = False  # the CLI turns it on; tests start their own (postgres_dsn)

    def __post_init__(self) -> None:
        if not 1 <= self.brokers <= MAX_BROKERS:
            raise StackError(f"--brokers {self.brokers}: expected 1 to {MAX_BROKERS}")

    @classmethod
    def default(cls, brokers: int | None = None, *, postgres: bool = False) -> LocalStack:
        """The stack under CHAOSBUS_HOME, on CHAOSBUS_{KAFKA,REDIS,POSTGRES}_PORT if set;
        as many brokers as asked, else as the running stack has."""
        home = default_home() / "local"
        return cls(
            home=home,
            cache=default_cache(),
            kafka_port=_port_from_env("CHAOSBUS_KAFKA_PORT", DEFAULT_KAFKA_PORT),
            redis_port=_port_from_env("CHAOSBUS_REDIS_PORT", DEFAULT_REDIS_PORT),
            brokers=brokers or recorded_brokers(home),
            postgres_port=_port_from_env("CHAOSBUS_POSTGRES_PORT", DEFAULT_POSTGRES_PORT),
            postgres=postgres,
        )

    @property
    def addresses_file(self) -> Path:
        return self.home / "addresses.json"

    @property
    def secure_dir(self) -> Path:
        return self.home / "kafka" / "secure"

    def kafka(self) -> KafkaNode:
        """The single node, or node 1 of a cluster."""
        return self.kafka_nodes()[0]

    def kafka_nodes(self) -> list[KafkaNode]:
        if self.brokers == 1:
            return [
                KafkaNode(
                    home=self.home / "kafka",
                    libs=libs_dir(self.cache),
                    port=self.kafka_port,
                    controller_port=self.kafka_port + 1,
                    secure=SecureListener.load(self.secure_dir),
                )
            ]
        ids = range(1, self.brokers + 1)
        voters = tuple((i, self.kafka_port + 2 * (i - 1) + 1) for i in ids)
        return [
            KafkaNode(
                home=self.home / f"kafka-{i}",
                libs=libs_dir(self.cache),
                port=self.kafka_port + 2 * (i - 1),
                controller_port=self.kafka_port + 2 * (i - 1) + 1,
                node_id=i,
                voters=voters,
            )
            for i in ids
        ]

    @property
    def bootstrap(self) -> str:
        return ",".join(node.bootstrap for node in self.kafka_nodes())

    def redis(self) -> RedisNode:
        return RedisNode(home=self.home / "redis", port=self.redis_port)

    def postgres_node(self) -> PostgresNode:
        return PostgresNode(home=self.home / "postgres", port=self.postgres_port)

    def up(self, *, secure: bool = False) -> StackStatus:
        """Start what is stopped; `secure` adds a SASL_SSL listener to a single node made new."""
        redis, nodes, pg = self.redis(), self.kafka_nodes(), self.postgres_node()
        with_pg = self.postgres and postgres_available()
        if secure and len(nodes) > 1:
            raise StackError("--secure starts one node; it cannot be combined with --brokers")
        if self._other_nodes_running():
            raise StackError(
                f"a local stack with {recorded_brokers(self.home)} broker(s) runs under "
                f"{self.home}; stop it first with `chaosbus local down`"
            )
        if not redis.running():
            ensure_free(redis.port, "CHAOSBUS_REDIS_PORT")
        for node in nodes:
            if not node.running():
                ensure_free(node.port, "CHAOSBUS_KAFKA_PORT")
                ensure_free(node.controller_port, "CHAOSBUS_KAFKA_PORT")
                if node.secure is not None:
                    ensure_free(node.secure.port, f"a new stack (remove {self.secure_dir})")
        if secure and nodes[0].secure is None:
            nodes = [self._secured(nodes[0])]
        if with_pg and not pg.running():
            ensure_free(pg.port, "CHAOSBUS_POSTGRES_PORT")
        redis.start()
        if with_pg:
            pg.start()
        resolve_jars(self.cache)
        if len(nodes) == 1:
            nodes[0].start()
        else:
            self._start_cluster(nodes)
        addresses: dict[str, object] = {
            "bootstrap": self.bootstrap,
            "redis": redis.url,
            "brokers": len(nodes),
        }
        if with_pg:
            addresses["postgres"] = pg.dsn
        if nodes[0].secure is not None:
            addresses["secure_bootstrap"] = nodes[0].secure.bootstrap
            addresses["kafka_config"] = str(nodes[0].secure.client_properties_file)
        self.addresses_file.write_text(json.dumps(addresses) + "\n")
        # The stack's own Redis: its owner is its admin, so its kill switch starts released
        # (a no-op when it was already set up; docs/decisions/0050).
        asyncio.run(operations.init(redis.url, "local up"))
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

    def _start_cluster(self, nodes: list[KafkaNode]) -> None:
        # Every node formats with one cluster id (a node formatted before keeps its own and
        # gives it to the others), and all start before any is awaited: none answers
        # until a majority of the controllers runs.
        cluster_id = next((c for c in (n.cluster_id() for n in nodes) if c), None)
        cluster_id = cluster_id or new_cluster_id()
        # Formatting is a JVM run per node: in parallel, they take the time of one.
        with ThreadPoolExecutor(len(nodes)) as pool:
            list(pool.map(lambda node: node.launch(cluster_id), nodes))
        for node in nodes:
            if not node.wait_ready(timeout_s=120):
                for each in nodes:
                    each.stop()
                raise StackError(
                    f"Kafka node {node.node_id} did not answer on {node.bootstrap}; "
                    f"see {node.log_file}"
                )

    def _other_nodes_running(self) -> bool:
        mine = {node.pid_file for node in self.kafka_nodes()}
        return any(
            process.read_pid(pid) is not None
            for pid in self.home.glob("kafka*/kafka.pid")
            if pid not in mine
        )

    def down(self) -> StackStatus:
        # Every node under the home, whatever layout started it, all at once: a cluster's
        # last node stopped alone would wait for a controller quorum that is gone.
        pid_files = sorted(self.home.glob("kafka*/kafka.pid"))
        if pid_files:
            with ThreadPoolExecutor(len(pid_files)) as pool:
                list(pool.map(lambda pid: process.stop(pid, grace_s=30), pid_files))
        self.redis().stop()
        self.postgres_node().stop()
        self.addresses_file.unlink(missing_ok=True)
        return self.status()

    def status(self) -> StackStatus:
        nodes, pg = self.kafka_nodes(), self.postgres_node()
        secure = nodes[0].secure
        return StackStatus(
            kafka_running=all(node.running() for node in nodes),
            redis_running=self.redis().running(),
            bootstrap=self.bootstrap,
            redis_url=self.redis().url,
            brokers=self.brokers,
            secure_bootstrap=secure.bootstrap if secure else None,
            kafka_config=str(secure.client_properties_file) if secure else None,
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


def recorded_brokers(home: Path) -> int:
    """How many brokers the stack under `home` was started with (1 if none runs)."""
    try:
        brokers = json.loads((home / "addresses.json").read_text()).get("brokers", 1)
    except (FileNotFoundError, json.JSONDecodeError, AttributeError):
        return 1
    return brokers if isinstance(brokers, int) and 1 <= brokers <= MAX_BROKERS else 1


def recorded_addresses(home: Path | None = None) -> dict[str, str]:
    path = (home or default_home() / "local") / "addresses.json"
    try:
        data = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    return {k: str(v) for k, v in data.items() if isinstance(v, str)}


def next_free_port(start: int) -> int:
    for port in range(start, min(start + 100, 65535)):
        try:
            ensure_free(port, "")
        except StackError:
            continue
        return port
    raise StackError(f"no free port on 127.0.0.1 from {start} for the SASL_SSL listener")
