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
            "kafka  running  127.0.0.1:4 (SASL_SSL; client config /h/client.properties)"
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
