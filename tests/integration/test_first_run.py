"""From nothing to a verdict (issue 20): what a newcomer's first `chaosbus run` meets.

Real `chaosbus` processes against the real stack: a probe pointed at a dead port is refused
before anything is injected, in one line; `--create-topics` creates a missing destination
with its source's partitions, and a creation the cluster refuses is one line; `--traffic`
starts the user's command when injection begins and keeps its exit and output.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
import yaml

from chaosbus.clients.connection import KafkaSettings
from chaosbus.control import operations
from chaosbus.scenarios import load_experiment_or_scenario
from chaosbus.settings import TOPIC_REPLICATION_ENV
from chaosbus.streams.topics import TopicAdmin
from chaosbus.testing import unique_topic
from tests.cli_runner import Outcome, chaosbus
from tests.conftest import StackAddresses
from tests.integration import databases
from tests.integration.databases import database
from tests.integration.runner_support import ready_topics

pytestmark = pytest.mark.integration

REDIS_DB = databases.FIRST_RUN  # its control plane: the CLI reads the default namespace only
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


def run(
    path: Path, bootstrap: str, redis_url: str, *args: str, env: dict[str, str] | None = None
) -> Outcome:
    return chaosbus(
        "run",
        str(path),
        "--bootstrap",
        bootstrap,
        "--redis",
        redis_url,
        "--no-history",
        *args,
        env=env,
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


class TestCreateTopics:
    async def test_a_missing_destination_is_created_like_its_source(
        self, bootstrap: str, control_db: str, tmp_path: Path
    ) -> None:
        """Without the flag a missing destination is one line saying which flag creates it;
        with `--create-topics` preflight creates it with the source's 5 partitions."""
        topic = unique_topic("create")
        source, destination = f"{topic}.src", f"{topic}.dst"
        await ready_topics(bootstrap, [source], 5)
        path = experiment_file(tmp_path, source, destination)
        refused = await asyncio.to_thread(run, path, bootstrap, control_db, "--dry-run")
        assert (refused.code, refused.stderr.splitlines()) == (
            2,
            [
                f"chaosbus: destination topic {destination!r} of route {source}->{destination} "
                "does not exist (pass --create-topics to create it with the source's partitions)"
            ],
        )
        created = await asyncio.to_thread(
            run, path, bootstrap, control_db, "--dry-run", "--create-topics"
        )
        assert created.code == 0, created.stderr
        assert f"topic {destination}: 5 partitions" in created.stdout.splitlines()
        async with TopicAdmin(KafkaSettings(bootstrap)) as admin:
            assert await admin.partition_counts([destination]) == {destination: 5}

    async def test_a_creation_the_cluster_refuses_is_one_line(
        self, bootstrap: str, control_db: str, tmp_path: Path
    ) -> None:
        """A single broker cannot hold 7 replicas: the run is refused before it starts, exit
        2, one line naming the topic and the broker's reason."""
        topic = unique_topic("refused")
        source, destination = f"{topic}.src", f"{topic}.dst"
        await ready_topics(bootstrap, [source], 2)
        path = experiment_file(tmp_path, source, destination)
        outcome = await asyncio.to_thread(
            run, path, bootstrap, control_db, "--create-topics", env={TOPIC_REPLICATION_ENV: "7"}
        )
        assert outcome.code == 2
        [line] = outcome.stderr.splitlines()
        assert line.startswith(
            f"chaosbus: cannot create topic {destination!r}: Unable to replicate the partition "
            "7 time(s)"
        ), line
        assert outcome.stdout == "preflight\n"


# The user's traffic: 20 events to the run's source, a line of output, then a failure.
PRODUCER = """
import asyncio, json, os
from aiokafka import AIOKafkaProducer

async def main():
    producer = AIOKafkaProducer(bootstrap_servers=os.environ["BOOTSTRAP"])
    await producer.start()
    try:
        for n in range(20):
            event = {"event_id": f"e-{n}", "version": 1, "customer": "c-1", "amount": 100}
            await producer.send_and_wait(
                os.environ["CHAOSBUS_SOURCE_TOPIC"], json.dumps(event).encode(),
                key=f"o-{n}".encode(),
            )
    finally:
        await producer.stop()
    print("sent 20", flush=True)

asyncio.run(main())
raise SystemExit(3)
"""


class TestTraffic:
    async def test_the_command_runs_during_injection_and_its_failure_is_reported(
        self, bootstrap: str, control_db: str, tmp_path: Path
    ) -> None:
        """`--traffic CMD` starts CMD as injection begins: its 20 events are all decided by
        the run's interposer; its exit 3 is in the JSON and the Markdown, its output in
        `PATH.traffic.log` beside the report, and one warning on stderr says it failed."""
        topic = unique_topic("traffic")
        source, destination = f"{topic}.src", f"{topic}.dst"
        await ready_topics(bootstrap, [source, destination], 3)
        path = experiment_file(
            tmp_path,
            source,
            destination,
            schedule={"warmup_s": 1, "inject_s": 4, "recover_s": 1},
        )
        script = tmp_path / "producer.py"
        script.write_text(PRODUCER, encoding="utf-8")
        command = f"BOOTSTRAP={bootstrap} {sys.executable} {script}"
        report = tmp_path / "run.json"
        outcome = await asyncio.to_thread(
            run, path, bootstrap, control_db, "--traffic", command, "--report", str(report)
        )
        written = json.loads(report.read_text(encoding="utf-8"))
        log = tmp_path / "run.traffic.log"
        assert written["traffic"] == {
            "command": command,
            "output": str(log),
            "started_s": written["traffic"]["started_s"],
            "exit_code": 3,
            "stopped": False,
            "error": None,
        }
        inject = next(p for p in written["phases"] if p["name"] == "inject")
        assert written["traffic"]["started_s"] >= inject["start_s"]
        assert log.read_text(encoding="utf-8") == "sent 20\n"
        assert sum(written["faults"].values()) == 20, written["faults"]
        warning = f"traffic command `{command}` exited 3 (output: {log})"
        assert warning in outcome.stderr.splitlines(), outcome.stderr
        markdown = report.with_suffix(".md").read_text(encoding="utf-8")
        assert f"- {warning}" in markdown
        assert re.search(r"^inject\b", outcome.stdout, re.MULTILINE), outcome.stdout
