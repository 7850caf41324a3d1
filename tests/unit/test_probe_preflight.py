"""Preflight reads each check's probe once: a probe that does not answer refuses the run.

Against a real HTTP server on loopback (standard library, in a thread) and a dead port.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from chaosbus.clients.connection import KafkaSettings
from chaosbus.errors import EXIT_INVALID, Unreachable
from chaosbus.experiment.spec import ExperimentSpec
from chaosbus.monitors.probes.kind import ProbeContext
from chaosbus.runner.probe_preflight import SAMPLE_ENTITY, check_probes
from chaosbus.scenarios import load_experiment_or_scenario
from tests.local_http import QuietHandler, serving

SEEN: list[str] = []


class _Handler(QuietHandler):
    # /<status>/orders/<entity>: answers <status> with a version, so one server plays each.
    def do_GET(self) -> None:
        SEEN.append(self.path)
        status = int(self.path.split("/")[1])
        body = b'{"version": 3}' if status == 200 else b""
        self.answer(status, body)


@pytest.fixture
def base_url() -> Iterator[str]:
    with serving(_Handler) as url:
        yield url


@pytest.fixture
def dead_url() -> str:
    """A loopback port nothing listens on: bound, then closed."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def http_checks(url: str, **probe: Any) -> ExperimentSpec:
    """duplicate-storm with only its order-state check, read over HTTP at `url` (`probe`:
    more fields of the probe)."""
    doc = load_experiment_or_scenario("duplicate-storm").model_dump(
        mode="json", by_alias=True, exclude_none=True
    )
    order_state = doc["monitor"]["checks"][0]
    order_state["probe"] = {
        "kind": "http",
        "url": url + "/orders/{entity}",
        "json": "$.version",
        **probe,
    }
    doc["monitor"]["checks"] = [order_state]
    return ExperimentSpec.model_validate(doc)


CONTEXT = ProbeContext(KafkaSettings(bootstrap="127.0.0.1:1"), "redis://127.0.0.1:1/0")


class TestProbePreflight:
    @pytest.mark.parametrize("status", [200, 404, 410, 400])
    async def test_an_answer_passes(self, base_url: str, status: int) -> None:
        """A value, an absence (404, 410) or a refusal of the sample itself (400: the sample
        is not one of the service's entities) is an answer: the check's line says so."""
        SEEN.clear()
        lines = await check_probes(http_checks(f"{base_url}/{status}"), CONTEXT, now_ms=1)
        assert lines == ["check order-state: its http probe answered"]
        assert [f"/{status}/orders/{SAMPLE_ENTITY}"] == SEEN  # one read of the sample

    async def test_a_server_error_refuses(self, base_url: str) -> None:
        """A 5xx is no answer: refused in one line naming the check, the probe, the error."""
        with pytest.raises(Unreachable) as caught:
            await check_probes(http_checks(f"{base_url}/503"), CONTEXT, now_ms=1)
        assert str(caught.value) == (
            f"check order-state: its http probe cannot read: GET {base_url}/503/orders/"
            f"{SAMPLE_ENTITY}: HTTP 503"
        )
        assert caught.value.exit_code == EXIT_INVALID

    async def test_a_dead_port_refuses(self, dead_url: str) -> None:
        """Nothing listening: refused, the connection error named, exit 2."""
        with pytest.raises(Unreachable) as caught:
            await check_probes(http_checks(dead_url), CONTEXT, now_ms=1)
        assert str(caught.value) == (
            f"check order-state: its http probe cannot read: GET {dead_url}/orders/"
            f"{SAMPLE_ENTITY}: <urlopen error [Errno 111] Connection refused>"
        )

    async def test_no_answer_in_time_refuses(self, base_url: str) -> None:
        """A probe that hangs past the preflight's patience: refused, naming the wait."""
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen()  # accepts connections, never answers
        try:
            url = f"http://127.0.0.1:{listener.getsockname()[1]}"
            # The probe's own timeout later (its worker thread then ends soon after).
            checks = http_checks(url, timeout_s=0.6)
            with pytest.raises(Unreachable) as caught:
                await check_probes(checks, CONTEXT, now_ms=1, timeout_s=0.3)
        finally:
            listener.close()
        assert str(caught.value) == (
            "check order-state: its http probe cannot read: no answer in 0.3 s"
        )
