"""Local stack settings that fail before any server starts."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from chaosbus.errors import StackError
from chaosbus.local.secure import SecureListener
from chaosbus.local.stack import LocalStack, StackStatus, ensure_free
from chaosbus.testing import free_port_pair


class TestPorts:
    def test_a_taken_port_is_named_with_its_setting(self) -> None:
        """A port in use stops `local up` with the port and the variable that moves it."""
        with socket.socket() as holder:
            holder.bind(("127.0.0.1", 0))
            holder.listen()
            port = holder.getsockname()[1]
            with pytest.raises(StackError, match=f"port {port} .*CHAOSBUS_KAFKA_PORT"):
                ensure_free(port, "CHAOSBUS_KAFKA_PORT")

    def test_ports_come_from_the_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """CHAOSBUS_KAFKA_PORT and CHAOSBUS_REDIS_PORT move the default stack."""
        monkeypatch.setenv("CHAOSBUS_KAFKA_PORT", "29100")
        monkeypatch.setenv("CHAOSBUS_REDIS_PORT", "29200")
        stack = LocalStack.default()
        assert (stack.kafka().bootstrap, stack.redis().url) == (
            "127.0.0.1:29100",
            "redis://127.0.0.1:29200/0",
        )

    def test_a_port_that_is_not_a_number_is_refused(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """A malformed port is one clear error, not a traceback."""
        monkeypatch.setenv("CHAOSBUS_REDIS_PORT", "redis")
        with pytest.raises(StackError, match="CHAOSBUS_REDIS_PORT='redis'"):
            LocalStack.default()


class TestSecureListener:
    def test_status_names_the_listener_and_its_client_file(self) -> None:
        """`local status` and `--env` show the SASL_SSL address and the client.properties."""
        status = StackStatus(
            kafka_running=True,
            redis_running=True,
            bootstrap="127.0.0.1:1",
            redis_url="redis://127.0.0.1:3/0",
            secure_bootstrap="127.0.0.1:4",
            kafka_config="/h/client.properties",
        )
        assert status.lines()[1] == (
            "kafka     running  127.0.0.1:4 (SASL_SSL; client config /h/client.properties)"
        )
        assert status.env_lines()[-1] == (
            "# export CHAOSBUS_BOOTSTRAP=127.0.0.1:4 CHAOSBUS_KAFKA_CONFIG=/h/client.properties"
        )

    def test_a_node_made_without_secure_is_refused(self, tmp_path: Path) -> None:
        """--secure on a formatted plain node says how to remake it, instead of lacking users."""
        stack = LocalStack(
            home=tmp_path,
            cache=tmp_path / "cache",
            kafka_port=free_port_pair(),
            redis_port=free_port_pair(),
        )
        (stack.kafka().data_dir).mkdir(parents=True)
        (stack.kafka().data_dir / "meta.properties").write_text("")
        with pytest.raises(StackError, match="was made without --secure"):
            stack.up(secure=True)

    def test_listener_files_and_format_arguments(self, tmp_path: Path) -> None:
        """The generated listener writes its client file and both SCRAM credentials."""
        listener = SecureListener.create(tmp_path, 4242)
        assert SecureListener.load(tmp_path) == listener
        assert listener.password not in repr(listener)
        text = listener.client_properties_file.read_text()
        assert "bootstrap.servers=127.0.0.1:4242\n" in text
        assert listener.client_properties_file.stat().st_mode & 0o077 == 0
        assert listener.format_args() == [
            "--add-scram",
            f"SCRAM-SHA-256=[name=chaos,password={listener.password}]",
            "--add-scram",
            f"SCRAM-SHA-512=[name=chaos,password={listener.password}]",
        ]


class TestClusterLayout:
    def stack(self, tmp_path: Path, brokers: int) -> LocalStack:
        return LocalStack(home=tmp_path, cache=tmp_path, kafka_port=29100, brokers=brokers)

    def test_nodes_take_consecutive_port_pairs(self, tmp_path: Path) -> None:
        """Node i listens on base + 2(i-1), its controller on the next port; one quorum."""
        nodes = self.stack(tmp_path, 3).kafka_nodes()
        assert [(n.node_id, n.port, n.controller_port) for n in nodes] == [
            (1, 29100, 29101),
            (2, 29102, 29103),
            (3, 29104, 29105),
        ]
        settings = dict(line.split("=", 1) for line in nodes[1].properties().splitlines())
        assert settings["node.id"] == "2"
        assert settings["controller.quorum.voters"] == (
            "1@127.0.0.1:29101,2@127.0.0.1:29103,3@127.0.0.1:29105"
        )
        assert (
            self.stack(tmp_path, 3).bootstrap == "127.0.0.1:29100,127.0.0.1:29102,127.0.0.1:29104"
        )

    def test_three_nodes_replicate_three_times_two_in_sync(self, tmp_path: Path) -> None:
        """The cluster's defaults and Kafka's own internal topics: 3 replicas, 2 in sync."""
        node = self.stack(tmp_path, 3).kafka_nodes()[0]
        settings = dict(line.split("=", 1) for line in node.properties().splitlines())
        assert {k: settings[k] for k in REPLICATION_KEYS} == {
            "default.replication.factor": "3",
            "min.insync.replicas": "2",
            "offsets.topic.replication.factor": "3",
            "transaction.state.log.replication.factor": "3",
            "transaction.state.log.min.isr": "2",
        }

    def test_one_node_keeps_its_layout(self, tmp_path: Path) -> None:
        """Without --brokers the single node keeps its home, ports and replication 1."""
        (node,) = self.stack(tmp_path, 1).kafka_nodes()
        settings = dict(line.split("=", 1) for line in node.properties().splitlines())
        assert (node.home, node.port, node.controller_port) == (tmp_path / "kafka", 29100, 29101)
        assert settings["controller.quorum.voters"] == "1@127.0.0.1:29101"
        assert {settings[k] for k in REPLICATION_KEYS} == {"1"}

    def test_status_finds_the_recorded_cluster(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """`local status` and `local down` read the broker count `local up` recorded."""
        monkeypatch.setenv("CHAOSBUS_HOME", str(tmp_path))
        (tmp_path / "local").mkdir()
        (tmp_path / "local" / "addresses.json").write_text('{"brokers": 3}')
        assert LocalStack.default().brokers == 3
        assert LocalStack.default(1).brokers == 1


REPLICATION_KEYS = (
    "default.replication.factor",
    "min.insync.replicas",
    "offsets.topic.replication.factor",
    "transaction.state.log.replication.factor",
    "transaction.state.log.min.isr",
)


class TestStatus:
    def test_env_exports_postgres_only_when_it_runs(self) -> None:
        """`local status --env` adds CHAOSBUS_POSTGRES for a running PostgreSQL, no other."""
        common = {"bootstrap": "127.0.0.1:19092", "redis_url": "redis://127.0.0.1:16379/0"}
        dsn = "postgresql://chaosbus@127.0.0.1:15432/chaosbus"
        up = StackStatus(True, True, **common, postgres_running=True, postgres_dsn=dsn)
        down = StackStatus(True, True, **common, postgres_running=False, postgres_dsn=dsn)
        assert up.env_lines() == [
            "export CHAOSBUS_BOOTSTRAP=127.0.0.1:19092",
            "export CHAOSBUS_REDIS=redis://127.0.0.1:16379/0",
            f"export CHAOSBUS_POSTGRES={dsn}",
        ]
        assert down.env_lines() == up.env_lines()[:2]
        assert down.lines()[2] == f"postgres  stopped  {dsn}"

    def test_postgres_port_comes_from_the_environment(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """CHAOSBUS_POSTGRES_PORT moves the default stack's PostgreSQL."""
        monkeypatch.setenv("CHAOSBUS_POSTGRES_PORT", "29300")
        node = LocalStack.default().postgres_node()
        assert node.dsn == "postgresql://chaosbus@127.0.0.1:29300/chaosbus"
