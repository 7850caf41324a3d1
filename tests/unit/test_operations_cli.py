"""Bad input to the operations flags and commands: one line naming what is wrong, exit 2,
before anything is reached (no broker, no Redis)."""

from __future__ import annotations

import logging
import socket

import pytest
from typer.testing import CliRunner

from chaosbus.cli import app
from chaosbus.runner.console import phase_records
from chaosbus.runner.progress import Progress

DEAD_REDIS = "redis://127.0.0.1:1/0"


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output.strip().splitlines()[-1]


class TestLongRunningCommands:
    @pytest.mark.parametrize(
        "command",
        [
            ("proxy", "--route", "a:b"),
            ("http", "--upstream", "http://127.0.0.1:1"),
            ("run", "duplicate-storm"),
            ("demo",),
        ],
    )
    def test_an_unknown_log_format_is_refused(self, command: tuple[str, ...]) -> None:
        """`--log-format yaml` on each long-running command: one line, exit 2."""
        code, line = invoke(*command, "--log-format", "yaml")
        assert (code, line) == (2, "chaosbus: --log-format 'yaml': expected text or json")

    def test_a_metrics_port_in_use_is_refused(self) -> None:
        """Another process listens on the port: one line naming it, exit 2, before Kafka."""
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            code, line = invoke(
                "proxy", "--route", "a:b", "--bootstrap", "127.0.0.1:1",
                "--metrics", f"127.0.0.1:{port}",
            )  # fmt: skip
        assert code == 2
        assert line.startswith(f"chaosbus: --metrics 127.0.0.1:{port}: cannot listen there: ")

    def test_a_metrics_address_must_be_host_and_port(self) -> None:
        """`--metrics 9464` is not HOST:PORT."""
        code, line = invoke("run", "duplicate-storm", "--metrics", "9464")
        assert (code, line) == (
            2,
            "chaosbus: --metrics '9464': expected HOST:PORT, e.g. 127.0.0.1:9464",
        )


class TestPauseNames:
    def test_a_fault_no_experiment_declares(self) -> None:
        """`pause duplicate-storm --fault nope`: one line naming it and the declared ones."""
        code, line = invoke("pause", "duplicate-storm", "--fault", "nope", "--redis", DEAD_REDIS)
        assert (code, line) == (
            2,
            "chaosbus: duplicate-storm declares no fault 'nope' (faults: retries)",
        )

    def test_a_route_no_experiment_declares(self) -> None:
        """`resume duplicate-storm --route payments`: one line listing the routes."""
        code, line = invoke(
            "resume", "duplicate-storm", "--route", "payments", "--redis", DEAD_REDIS
        )
        assert (code, line) == (
            2,
            "chaosbus: duplicate-storm declares no route 'payments' (routes: orders.nocode:orders)",
        )

    def test_exactly_one_scope(self) -> None:
        """A route and a fault at once is refused."""
        code, line = invoke(
            "pause", "duplicate-storm", "--fault", "retries", "--route", "orders.nocode"
        )
        assert (code, line) == (2, "chaosbus: name exactly one of --route, --http-route, --fault")

    def test_a_declared_fault_reaches_for_redis(self) -> None:
        """A declared fault passes the check; the dead control plane is the one line then."""
        code, line = invoke("pause", "duplicate-storm", "--fault", "retries", "--redis", DEAD_REDIS)
        assert code == 2
        assert line.startswith("chaosbus: Redis at redis://127.0.0.1:1/0 does not answer")


class TestJsonProgress:
    def test_a_phase_record_as_each_phase_begins(self, caplog: pytest.LogCaptureFixture) -> None:
        """`run --log-format json`: the progress is one `phase` record per new phase."""
        caplog.set_level(logging.INFO, logger="chaosbus.runner")
        with phase_records() as show:
            for phase in ("preflight", "warmup", "warmup", "inject", "recover"):
                show(Progress(phase, 1.0, 3, 0, 2, 10, 1.0))
        phases = [r.phase for r in caplog.records if getattr(r, "action", None) == "phase"]
        assert phases == ["warmup", "inject", "recover"]
