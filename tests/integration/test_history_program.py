"""Done when of issue 22, on real Kafka, Redis, SQLite and PostgreSQL, through the real CLI:

    three runs of one smoke experiment recorded in each store   (module fixture, 6 runs)
    `chaosbus history` shows them; the JUnit files read by junitparser
    a deliberately slow release of the service trips the gate: exit 5, in each store
    `chaosbus rerun` on fresh topics makes the same decisions (same ledger counts)
    `chaosbus history --html` renders in headless Chromium with the network off

The experiment writes its own traffic (a recording replayed as its workload, from the
start of the injection), so every run sees the same 120 order events and a rerun on fresh
topics sees them at the same offsets. The demo's safe service runs in a thread of its own
while the CLI runs in the test's thread (its signal handlers need the main thread).
Set CHAOSBUS_HISTORY_EVIDENCE=DIR to keep the history table, the gate's lines and a
screenshot of the page there (the closing note of the issue shows them).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from junitparser import Failure, JUnitXml
from typer.testing import CliRunner, Result

from chaosbus.cli import app
from chaosbus.clients.connection import KafkaSettings
from chaosbus.history.connect import open_history
from chaosbus.history.entry import sha256_of
from chaosbus.history.location import parse_location
from chaosbus.history.store import Query
from chaosbus.monitors.probes.kafka_reader import read_ledger
from tests.conftest import StackAddresses
from tests.integration.history_support import (
    Topics,
    drop_schema,
    experiment,
    postgres_history,
    safe_service,
    service_running,
    write_experiment,
    write_recording,
)
from tests.integration.runner_support import ready_topics
from tests.unit.test_report_chromium import CHROMIUM, browse

pytestmark = pytest.mark.integration

STORES = ("sqlite", "postgresql")
SLOW_MS = 60  # the degraded release: 60 ms per event, ~10 s for the storm's ~160 deliveries


@dataclass
class World:
    kafka: KafkaSettings
    redis_url: str
    topics: Topics
    file: Path
    prefix: str
    group: str
    tmp: Path
    where: dict[str, str]  # store → --history
    runs: dict[str, list[str]]  # store → run ids, oldest first
    seconds: float  # the fixture's wall time

    def args(self, *extra: str) -> list[str]:
        return [
            "--bootstrap", self.kafka.bootstrap, "--redis", self.redis_url,
            "--key-prefix", self.prefix, *extra,
        ]  # fmt: skip


def cli(*args: str) -> Result:
    result = CliRunner().invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def evidence(name: str, text: str) -> None:
    folder = os.environ.get("CHAOSBUS_HISTORY_EVIDENCE")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / name).write_text(text)


@pytest.fixture(scope="module")
def world(
    local_stack: StackAddresses, postgres_dsn: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """Three runs of the experiment per store, through `chaosbus run`, each held."""
    started = time.monotonic()
    tmp = tmp_path_factory.mktemp("program")
    kafka = KafkaSettings(local_stack.bootstrap)
    topics = Topics.fresh("hist")
    asyncio.run(ready_topics(kafka.bootstrap, [topics.source, topics.destination], 3))
    recording = write_recording(tmp / "orders.cbt", namespace=f"{topics.source}-")
    group = f"svc-{topics.destination}"
    file = write_experiment(tmp / "history-storm.yaml", experiment(topics, recording, group))
    postgres, schema = postgres_history(postgres_dsn)
    found = World(
        kafka, local_stack.redis_url, topics, file, f"{topics.source}:", group, tmp,
        {"sqlite": str(tmp / "history.sqlite"), "postgresql": postgres}, {s: [] for s in STORES},
        0.0,
    )  # fmt: skip
    config = safe_service(kafka, found.redis_url, topics, found.prefix, group)
    with service_running(config):
        for store in STORES:
            for n in range(3):
                report = tmp / f"{store}-{n}.json"
                result = cli(
                    "run", str(file), "--history", found.where[store],
                    "--label", "service=ledger-safe", "--label", f"version=1.{n}",
                    "--report", str(report), "--junit", str(tmp / f"{store}-{n}.xml"),
                    *found.args(),
                )  # fmt: skip
                assert result.exit_code == 0, result.output
                found.runs[store].append(json.loads(report.read_text())["run_id"])
    found.seconds = time.monotonic() - started
    print(f"\nsix recorded runs through the CLI: {found.seconds:.1f} s")
    try:
        yield found
    finally:
        drop_schema(postgres_dsn, schema)


@pytest.mark.parametrize("store", STORES)
def test_three_runs_are_recorded_and_history_shows_them(world: World, store: str) -> None:
    """Each store holds the three runs whole: the exact text and its sha256, the seed, the
    verdict, labels, measures, facts; `chaosbus history` lists them newest first."""
    location = parse_location(world.where[store])
    with open_history(location) as opened:
        summaries = opened.summaries(Query(experiment="history-storm"))
        first = opened.get(world.runs[store][0])
    assert [s.id for s in summaries] == world.runs[store][::-1]
    text = world.file.read_text()
    for n, summary in enumerate(reversed(summaries)):
        assert (summary.status, summary.exit_code, summary.seed) == ("held", 0, 11)
        assert summary.labels == {"service": "ledger-safe", "version": f"1.{n}"}
        assert summary.experiment_sha256 == sha256_of(text)
        assert summary.tier == "smoke"
        assert summary.measures.judged_share == 1.0
        assert summary.measures.faults["duplicate"] > 0
    assert first.experiment_text == text
    assert first.facts.run_id == first.report.run_id == world.runs[store][0]
    shown = cli("history", "--history", world.where[store], "--scenario", "history-storm")
    assert shown.exit_code == 0
    assert [shown.stdout.index(run) for run in world.runs[store][::-1]] == sorted(
        shown.stdout.index(run) for run in world.runs[store]
    )
    evidence(f"history-{store}.txt", shown.stdout)


def test_the_junit_file_is_read_by_a_real_parser(world: World) -> None:
    """junitparser reads one suite for the experiment; every case passed; the run id."""
    (suite,) = list(JUnitXml.fromfile(str(world.tmp / "sqlite-0.xml")))
    assert suite.name == "history-storm"
    assert sorted(case.name for case in suite) == [
        "check: order-state", "hypothesis after: anomalies.total",
        "hypothesis before: anomalies.total", "verdict",
    ]  # fmt: skip
    assert (suite.tests, suite.failures, suite.errors) == (4, 0, 0)
    properties = {p.name: p.value for p in suite.properties()}
    assert properties["run_id"] == world.runs["sqlite"][0]


@pytest.mark.parametrize("store", STORES)
def test_a_slower_release_trips_the_gate(world: World, store: str) -> None:
    """The same service, 60 ms slower per event: it still holds, but its recovery is far
    beyond the last run's: `--fail-on-regression` exits 5 naming time_to_recovery_s, the
    JSON and the JUnit file carry the comparison, and the run is recorded."""
    slow = safe_service(world.kafka, world.redis_url, world.topics, world.prefix, world.group,
                        apply_delay_ms=SLOW_MS)  # fmt: skip
    report, junit = world.tmp / f"gate-{store}.json", world.tmp / f"gate-{store}.xml"
    with service_running(slow):
        result = cli(
            "run", str(world.file), "--history", world.where[store],
            "--label", "service=ledger-safe", "--label", "version=2.0-slow",
            "--baseline", "last", "--fail-on-regression",
            "--report", str(report), "--junit", str(junit), *world.args(),
        )  # fmt: skip
    last = world.runs[store][-1]
    assert result.exit_code == 5, result.output
    gate = [line for line in result.stderr.splitlines() if line.startswith("baseline: ")]
    assert len(gate) == 1
    assert gate[0].startswith(f"baseline: REGRESSION against baseline {last} (last, ")
    assert gate[0].endswith("): time_to_recovery_s")
    assert "  time_to_recovery_s: 0 → " in result.stderr
    evidence(f"gate-{store}.txt", result.stderr)
    document = json.loads(report.read_text())
    assert document["status"] == "held"
    rows = {row["measure"]: row for row in document["baseline"]["rows"]}
    assert rows["time_to_recovery_s"]["regression"] is True
    assert rows["time_to_recovery_s"]["current"] > rows["time_to_recovery_s"]["baseline"] + 1
    (suite,) = list(JUnitXml.fromfile(str(junit)))
    (failure,) = next(case for case in suite if case.name == "baseline").result
    assert isinstance(failure, Failure)
    assert failure.message.startswith(f"REGRESSION against baseline {last}")
    with open_history(parse_location(world.where[store])) as opened:
        kept = opened.get(document["run_id"])
    assert kept.report.baseline is not None
    assert kept.report.baseline.baseline_id == last


def test_rerun_on_fresh_topics_makes_the_same_decisions(world: World) -> None:
    """`rerun` of the first run (its text, its seed) on fresh topics: the route keeps its
    decision key, the workload the same events at the same offsets, so the ledger counts
    per fault are the original's; the rerun is recorded as a rerun of it."""
    original = world.runs["sqlite"][0]
    fresh = Topics.fresh("rerun")
    asyncio.run(ready_topics(world.kafka.bootstrap, [fresh.source, fresh.destination], 3))
    prefix = f"{fresh.source}:"
    config = safe_service(world.kafka, world.redis_url, fresh, prefix, world.group)
    report = world.tmp / "rerun.json"
    with service_running(config):
        result = cli(
            "rerun", original, "--history", world.where["sqlite"],
            "--topic", f"{world.topics.source}={fresh.source}",
            "--topic", f"{world.topics.destination}={fresh.destination}",
            "--report", str(report),
            "--bootstrap", world.kafka.bootstrap, "--redis", world.redis_url,
            "--key-prefix", prefix,
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    rerun_id = json.loads(report.read_text())["run_id"]

    async def decisions(run_id: str, source: str) -> Counter[str]:
        records, _ = await read_ledger(world.kafka, run_id, source_topic=source)
        return Counter(record.fault for record in records)

    before = asyncio.run(decisions(original, world.topics.source))
    after = asyncio.run(decisions(rerun_id, fresh.source))
    assert before == after
    assert before["duplicate"] > 0
    assert sum(before.values()) == 120
    with open_history(parse_location(world.where["sqlite"])) as opened:
        kept = opened.get(rerun_id)
    assert (kept.summary.origin, kept.summary.rerun_of) == ("rerun", original)
    assert kept.summary.labels["service"] == "ledger-safe"
    assert kept.report.baseline is not None
    assert kept.report.baseline.baseline_id == original


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_the_history_page_renders_offline(world: World) -> None:
    """`history --html` of the team store: the indicator sentence, a cell per live run and
    the drawn trend plots, in headless Chromium with the network off."""
    page = world.tmp / "history.html"
    result = cli("history", "--history", world.where["postgresql"], "--html", str(page))
    assert result.exit_code == 0
    dom = browse(page, world.tmp / "profile", "--dump-dom")
    # Three runs and the slow release, which held too (the gate is about its recovery).
    assert "history-storm on ledger-safe: held 4 runs in a row since " in dom
    assert "; time to recovery 0 s → " in dom
    assert dom.count('class="cell" data-status="held"') == 4
    assert 'class="main-svg"' in dom
    folder = os.environ.get("CHAOSBUS_HISTORY_EVIDENCE")
    if folder:
        shot = Path(folder) / "history-page.png"
        browse(page, world.tmp / "profile2", f"--screenshot={shot}", "--window-size=1200,1500")
        shutil.copy(page, Path(folder) / "history.html")


def test_check_is_recorded_and_a_broken_history_keeps_the_verdict(world: World) -> None:
    """`check` of the first run is recorded under an id of its own (origin check, the run's
    id as run_id); with a corrupt history file the same check still exits with its verdict
    (0) and says one line about the history."""
    first = world.runs["sqlite"][0]
    args = ["check", str(world.file), "--run-id", first, "--bootstrap", world.kafka.bootstrap,
            "--redis", world.redis_url, "--key-prefix", world.prefix]  # fmt: skip
    recorded = cli(*args, "--history", world.where["sqlite"], "--label", "service=ledger-safe")
    assert recorded.exit_code == 0, recorded.output
    with open_history(parse_location(world.where["sqlite"])) as opened:
        (check,) = [s for s in opened.summaries(Query(limit=50)) if s.origin == "check"]
    assert check.run_id == first
    assert check.id != first
    broken = world.tmp / "broken.sqlite"
    broken.write_bytes(b"not a database " * 50)
    kept = cli(*args, "--history", str(broken))
    assert kept.exit_code == 0
    assert kept.stderr.splitlines()[-1] == (
        f"chaosbus: history not written: history {broken} is not an SQLite database "
        "(file is not a database)"
    )


def test_ctrl_c_stops_the_suite_and_reports_what_completed(world: World) -> None:
    """SIGINT while the first of two experiments injects: that run aborts as `run` does
    (recorded, aborted), the second never starts, the summary says so, exit 3."""
    folder = world.tmp / "suite"
    folder.mkdir()
    document = yaml.safe_load(world.file.read_text())
    for name in ("suite-a", "suite-b"):
        (folder / f"{name}.yaml").write_text(yaml.safe_dump({**document, "name": name}))
    config = safe_service(world.kafka, world.redis_url, world.topics, world.prefix, world.group)
    with service_running(config):
        suite = subprocess.Popen(
            [sys.executable, "-m", "chaosbus", "suite", str(folder), "--tier", "smoke",
             "--history", world.where["sqlite"], "--out", str(world.tmp / "suite-out"),
             *world.args()],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert suite.stdout is not None
        for line in suite.stdout:  # a pipe: one line per phase, flushed as it begins
            if line.startswith("inject"):
                suite.send_signal(signal.SIGINT)
                break
        out, err = suite.communicate(timeout=120)
    assert suite.returncode == 3, err
    assert "suite-a" in out
    assert "ABORTED" in out
    assert "not run" in out
    assert "interrupted; 1 experiment(s) not run" in err
    with open_history(parse_location(world.where["sqlite"])) as opened:
        (aborted,) = opened.summaries(Query(experiment="suite-a"))
        assert opened.summaries(Query(experiment="suite-b")) == []
    assert (aborted.status, aborted.origin) == ("aborted", "suite")
    assert aborted.suite is not None
