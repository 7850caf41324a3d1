"""Bad input at the command line: one clear line naming what is wrong, exit code 2."""

from __future__ import annotations

import sys
from pathlib import Path

from chaosbus.testing import free_port_pair
from tests.cli_runner import chaosbus


class TestProxyInput:
    def test_dead_broker(self) -> None:
        """No broker at the address: exit 2, one line naming the address, no traceback."""
        port = free_port_pair()
        outcome = chaosbus("proxy", "--route", "a:b", "--bootstrap", f"127.0.0.1:{port}")
        assert outcome.code == 2
        assert outcome.last_error_line == f"chaosbus: no Kafka broker answers at 127.0.0.1:{port}"
        assert "Traceback" not in outcome.stderr
        assert "ERROR" not in outcome.stderr

    def test_route_without_destination(self) -> None:
        """A route that is not SOURCE:DESTINATION is named in the error."""
        outcome = chaosbus("proxy", "--route", "orders.nocode")
        assert outcome.code == 2
        assert "route 'orders.nocode': expected SOURCE:DESTINATION" in outcome.last_error_line

    def test_broken_fault_file_names_the_path(self, tmp_path: Path) -> None:
        """Each problem of a fault file is one line naming its path; nothing connects."""
        faults = tmp_path / "faults.yaml"
        faults.write_text("faults:\n  - type: delay\n    probability: 2\n")
        outcome = chaosbus(
            "proxy",
            "--route",
            "a:b",
            "--fault",
            str(faults),
            "--seed",
            "1",
            "--bootstrap",
            f"127.0.0.1:{free_port_pair()}",
        )
        assert outcome.code == 2
        assert "faults[0].probability" in outcome.stderr
        assert "faults[0].distribution: required" in outcome.stderr


class TestLocalStackPrerequisites:
    def test_missing_redis_server_says_what_to_install(self, tmp_path: Path) -> None:
        """Without redis-server on PATH, `local up` says what to install and exits 2."""
        empty_bin = tmp_path / "bin"
        empty_bin.mkdir()
        outcome = chaosbus(
            "local",
            "up",
            env={
                "PATH": f"{empty_bin}:{Path(sys.executable).parent}",
                "JAVA_HOME": "",
                "CHAOSBUS_HOME": str(tmp_path / "home"),
                "CHAOSBUS_KAFKA_PORT": str(free_port_pair()),
                "CHAOSBUS_REDIS_PORT": str(free_port_pair()),
                "CHAOSBUS_POSTGRES_PORT": str(free_port_pair()),
            },
        )
        assert outcome.code == 2
        assert outcome.last_error_line.startswith("chaosbus: redis-server not found: install it")
