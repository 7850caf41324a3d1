"""From nothing to a verdict (issue 20): what a newcomer's first `chaosbus run` meets.

Real `chaosbus` processes against the real stack: a probe pointed at a dead port is refused
before anything is injected, in one line.
"""

from __future__ import annotations

import asyncio
import socket
import uuid
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
import yaml

from chaosbus.control import operations
from chaosbus.scenarios import load_experiment_or_scenario
from chaosbus.testing import unique_topic
from tests.cli_runner import Outcome, chaosbus
from tests.conftest import StackAddresses
from tests.integration.outcomes_support import database
from tests.integration.runner_support import ready_topics

pytestmark = pytest.mark.integration

REDIS_DB = 10  # this module's control plane: the CLI reads the default namespace only
SHORT = {"warmup_s": 1, "inject_s": 2, "recover_s": 1}


@pytest.fixture(scope="module")
def control_db(local_stack: StackAddresses) -> str:
    """The module's Redis database, emptied, its control plane initialised (released)."""
    url = database(local_stack.redis_url, REDIS_DB)

    async def fresh() -> None:
        client = aioredis.from_url(url)
        try:
            await client.flushdb()
        finally:
            await client.aclose()
        await operations.init(url, "test")

    asyncio.run(fresh())
    return url


def dead_port() -> int:
    """A loopback port nothing listens on: bound, then closed."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def experiment_file(directory: Path, source: str, destination: str, **edits: Any) -> Path:
    """duplicate-storm on the given topics, under a name of its own, with `edits` applied
    to the document (a check's probe, the schedule)."""
    doc = load_experiment_or_scenario("duplicate-storm").model_dump(
        mode="json", by_alias=True, exclude_none=True
    )
    doc["name"] = f"first-run-{uuid.uuid4().hex[:6]}"
    doc["routes"] = [{"from": source, "to": destination}]
    doc["monitor"]["source_topic"] = source
    doc["schedule"] = SHORT
    doc["group_id"] = f"g-{doc['name']}"
    for key, value in edits.items():
        doc[key] = value
    path = directory / f"{doc['name']}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def with_http_probe(path: Path, url: str) -> Path:
    """The file's order-state check read over HTTP at `url`."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["monitor"]["checks"][0]["probe"] = {
        "kind": "http",
        "url": url + "/orders/{entity}",
        "json": "$.version",
    }
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def run(path: Path, bootstrap: str, redis_url: str, *args: str) -> Outcome:
    return chaosbus(
        "run", str(path), "--bootstrap", bootstrap, "--redis", redis_url, "--no-history", *args
    )


class TestDeadProbe:
    async def test_refused_before_anything_is_injected(
        self, bootstrap: str, control_db: str, tmp_path: Path
    ) -> None:
        """An HTTP probe at a dead port: `run` and `run --dry-run` exit 2 with one line naming
        the check, the probe kind and the error; the run wrote `refused` to the audit log
        and never `start`, and nothing reached the destination."""
        topic = unique_topic("dead-probe")
        source, destination = f"{topic}.src", f"{topic}.dst"
        await ready_topics(bootstrap, [source, destination], 3)
        port = dead_port()
        path = with_http_probe(
            experiment_file(tmp_path, source, destination), f"http://127.0.0.1:{port}"
        )
        expected = (
            f"chaosbus: check order-state: its http probe cannot read: GET http://127.0.0.1:"
            f"{port}/orders/chaosbus-preflight: <urlopen error [Errno 111] Connection refused>"
        )
        for args in ((), ("--dry-run",)):
            outcome = await asyncio.to_thread(run, path, bootstrap, control_db, *args)
            assert (outcome.code, outcome.stderr.splitlines()) == (2, [expected]), outcome
        assert outcome.stdout == ""  # the dry run prints its findings only when it passed
        name = yaml.safe_load(path.read_text(encoding="utf-8"))["name"]
        entries = await operations.audit_log(control_db, 1_000)
        assert [e.action for e in entries if e.experiment == name] == ["refused"]
        assert [e.detail for e in entries if e.experiment == name] == [expected[10:]]
