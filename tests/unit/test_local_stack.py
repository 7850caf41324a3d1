"""Local stack settings that fail before any server starts."""

from __future__ import annotations

import socket

import pytest

from chaosbus.errors import StackError
from chaosbus.local.stack import LocalStack, StackStatus, ensure_free


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


class TestStatus:
    def test_env_exports_postgres_only_when_it_runs(self) -> None:
        """`local status --env` adds CHAOSBUS_POSTGRES for a running PostgreSQL, no other."""
        common = {"bootstrap": "127.0.0.1:19092", "redis_url": "redis://127.0.0.1:16379/0"}
        dsn = "postgresql://chaosbus@127.0.0.1:15432/chaosbus"
        up = StackStatus(True, True, **common, postgres_running=True, postgres_dsn=dsn)
        down = StackStatus(True, True, **common, postgres_running=False, postgres_dsn=dsn)
        assert up.env() == [
            "export CHAOSBUS_BOOTSTRAP=127.0.0.1:19092",
            "export CHAOSBUS_REDIS=redis://127.0.0.1:16379/0",
            f"export CHAOSBUS_POSTGRES={dsn}",
        ]
        assert down.env() == up.env()[:2]
        assert down.lines()[2] == f"postgres  stopped  {dsn}"

    def test_postgres_port_comes_from_the_environment(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """CHAOSBUS_POSTGRES_PORT moves the default stack's PostgreSQL."""
        monkeypatch.setenv("CHAOSBUS_POSTGRES_PORT", "29300")
        node = LocalStack.default().postgres_node()
        assert node.dsn == "postgresql://chaosbus@127.0.0.1:29300/chaosbus"
