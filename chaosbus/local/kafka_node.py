"""A real single-node Apache Kafka broker (KRaft) run from jars resolved by Maven."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from aiokafka import AIOKafkaClient
from aiokafka.errors import KafkaError

from chaosbus.clients.connection import KafkaSettings
from chaosbus.clients.quiet import quiet_aiokafka
from chaosbus.errors import StackError
from chaosbus.local import process
from chaosbus.local.prereqs import java_executable, maven_executable
from chaosbus.local.secure import SecureListener

BROKER_MAIN = "kafka.Kafka"
STORAGE_TOOL_MAIN = "kafka.tools.StorageTool"


def pom_text() -> str:
    return resources.files("chaosbus.local").joinpath("pom.xml").read_text()


def libs_dir(cache_dir: Path) -> Path:
    """The classpath directory for the current pom: a new pom resolves into a new one."""
    digest = hashlib.sha256(pom_text().encode()).hexdigest()[:12]
    return cache_dir / f"kafka-{digest}" / "libs"


def resolve_jars(cache_dir: Path) -> Path:
    """Copy the broker's runtime classpath into the cache, once per pom content."""
    pom = pom_text()
    libs = libs_dir(cache_dir)
    stamp = libs.parent / "complete"
    if stamp.exists():
        return libs
    mvn = maven_executable()
    libs.parent.mkdir(parents=True, exist_ok=True)
    pom_file = libs.parent / "pom.xml"
    pom_file.write_text(pom)
    shutil.rmtree(libs, ignore_errors=True)
    result = subprocess.run(
        [
            str(mvn),
            "-q",
            "-B",
            "-f",
            str(pom_file),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={libs}",
            "-DincludeScope=runtime",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        tail = (result.stdout + result.stderr).strip().splitlines()[-3:]
        raise StackError("maven could not resolve the Kafka jars: " + " | ".join(tail))
    stamp.write_text("ok\n")
    return libs


@dataclass(frozen=True)
class KafkaNode:
    """One combined broker+controller node; alone, or one of a cluster's `voters`."""

    home: Path
    libs: Path
    port: int
    controller_port: int
    secure: SecureListener | None = None  # `local up --secure`: a SASL_SSL listener too
    node_id: int = 1
    # The controller quorum as (node id, controller port); empty: this node alone.
    voters: tuple[tuple[int, int], ...] = ()

    @property
    def replication(self) -> int:
        """Replicas of every topic by default: one per node of the cluster."""
        return max(len(self.voters), 1)

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def pid_file(self) -> Path:
        return self.home / "kafka.pid"

    @property
    def log_file(self) -> Path:
        return self.home / "server.log"

    def properties(self) -> str:
        listeners = f"PLAINTEXT://127.0.0.1:{self.port}"
        protocols = "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
        if self.secure is not None:
            listeners += f",SASL_SSL://127.0.0.1:{self.secure.port}"
            protocols += ",SASL_SSL:SASL_SSL"
        settings = {
            "process.roles": "broker,controller",
            "node.id": str(self.node_id),
            "controller.quorum.voters": ",".join(
                f"{node}@127.0.0.1:{port}"
                for node, port in (self.voters or ((self.node_id, self.controller_port),))
            ),
            "listeners": f"{listeners},CONTROLLER://127.0.0.1:{self.controller_port}",
            "advertised.listeners": listeners,
            "controller.listener.names": "CONTROLLER",
            "listener.security.protocol.map": protocols,
            "inter.broker.listener.name": "PLAINTEXT",
            "log.dirs": str(self.data_dir),
            **replication_settings(self.replication),
            # Fewer internal partitions make the first group join fast on a 2-core machine.
            "offsets.topic.num.partitions": "5",
            "transaction.state.log.num.partitions": "5",
            "group.initial.rebalance.delay.ms": "0",
            # A typo in a topic name must be an error, not a silently created empty topic.
            "auto.create.topics.enable": "false",
            "num.partitions": "1",
        }
        if self.secure is not None:
            settings.update(self.secure.server_properties())
        return "".join(f"{name}={value}\n" for name, value in settings.items())

    def log4j_properties(self) -> str:
        return (
            "status = warn\n"
            "appender.file.type = File\n"
            "appender.file.name = FILE\n"
            f"appender.file.fileName = {self.log_file}\n"
            "appender.file.layout.type = PatternLayout\n"
            "appender.file.layout.pattern = [%d] %p %m (%c)%n\n"
            "rootLogger.level = INFO\n"
            "rootLogger.appenderRef.file.ref = FILE\n"
            "logger.state.name = state.change.logger\n"
            "logger.state.level = WARN\n"
        )

    def java_argv(self, main: str, *args: str) -> list[str]:
        return [
            str(java_executable()),
            "-Xms256m",
            "-Xmx1g",
            "-XX:+UseG1GC",
            f"-Dlog4j2.configurationFile={self.home / 'log4j2.properties'}",
            "-cp",
            f"{self.libs}/*",
            main,
            *args,
        ]

    def start(self, *, timeout_s: float = 90) -> None:
        self.launch()
        if not self.wait_ready(timeout_s=timeout_s):
            self.stop()
            raise StackError(f"Kafka did not answer on {self.bootstrap}; see {self.log_file}")

    def launch(self, cluster_id: str | None = None) -> None:
        """Start the process without waiting: a cluster's nodes answer once a quorum runs."""
        if process.read_pid(self.pid_file) is not None:
            return
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / "server.properties").write_text(self.properties())
        (self.home / "log4j2.properties").write_text(self.log4j_properties())
        if self.cluster_id() is None:
            self._format_storage(cluster_id or new_cluster_id())
        process.spawn(
            self.java_argv(BROKER_MAIN, str(self.home / "server.properties")),
            log_file=self.home / "stdout.log",
            pid_file=self.pid_file,
            cwd=self.home,
        )

    def cluster_id(self) -> str | None:
        """The cluster id this node's storage was formatted with, if it was."""
        try:
            text = (self.data_dir / "meta.properties").read_text()
        except FileNotFoundError:
            return None
        for line in text.splitlines():
            name, _, value = line.partition("=")
            if name.strip() == "cluster.id":
                return value.strip()
        return None

    def _format_storage(self, cluster_id: str) -> None:
        # Kafka's own tool writes meta.properties and the bootstrap metadata log.
        result = subprocess.run(
            self.java_argv(
                STORAGE_TOOL_MAIN,
                "format",
                "--ignore-formatted",
                # Joined with '=': a URL-safe base64 id may begin with '-', which the tool's
                # argument parser would otherwise take for an option.
                f"--cluster-id={cluster_id}",
                "-c",
                str(self.home / "server.properties"),
                *(self.secure.format_args() if self.secure is not None else []),
            ),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise StackError("kafka storage format failed: " + result.stdout + result.stderr)

    def wait_ready(self, *, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if process.read_pid(self.pid_file) is None:
                return False
            if asyncio.run(broker_answers(KafkaSettings(self.bootstrap))):
                return True
            time.sleep(0.3)
        return False

    def stop(self, *, grace_s: float = 30) -> bool:
        return process.stop(self.pid_file, grace_s=grace_s)

    def kill(self) -> bool:
        """End the node as a crash would (SIGKILL): no controlled shutdown, no leader moves."""
        return process.kill(self.pid_file)

    def running(self) -> bool:
        return process.read_pid(self.pid_file) is not None


def replication_settings(replicas: int) -> dict[str, str]:
    """Kafka's own internal topics and the default for new ones, for a cluster of `replicas`.

    With three, min.insync.replicas 2: an acknowledged write (acks=all) is on two nodes, and
    one node down leaves every partition writable.
    """
    in_sync = str(min(replicas, 2))
    return {
        "default.replication.factor": str(replicas),
        "min.insync.replicas": in_sync,
        "offsets.topic.replication.factor": str(replicas),
        "transaction.state.log.replication.factor": str(replicas),
        "transaction.state.log.min.isr": in_sync,
        "share.coordinator.state.topic.replication.factor": str(replicas),
        "share.coordinator.state.topic.min.isr": in_sync,
    }


async def broker_answers(kafka: KafkaSettings, *, timeout_s: float = 5) -> bool:
    """True when the broker answers a metadata request (what clients need, not just a port)."""
    client = AIOKafkaClient(**kafka.client_options(), request_timeout_ms=int(timeout_s * 1000))
    # Refused connections are the expected answer while the broker starts.
    with quiet_aiokafka():
        try:
            await asyncio.wait_for(client.bootstrap(), timeout_s)
            return bool(client.cluster.brokers())
        except (KafkaError, OSError, TimeoutError):
            return False
        finally:
            await client.close()


def new_cluster_id() -> str:
    """A fresh cluster id in Kafka's form: a UUID, URL-safe base64 without padding."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
