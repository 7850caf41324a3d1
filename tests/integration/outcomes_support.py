"""Real `chaosbus run` and `chaosbus check` processes, and what they leave behind.

One `Scenario` is one outcome played end to end: topics of its own, a demo service in this
process, order traffic that starts once the run has audited its start and its interposer
reads the source, the `run` command
in a subprocess (stopped by `chaosbus kill` or SIGINT when the plan says so), then `check`
over the same run id. Both commands write their three reports, read back here as `Written`
so a test can hold the JSON, the Markdown and the HTML to each other.

The CLI's control plane is the default namespace `chaosbus`, which a test cannot rename;
the module keeps a Redis database of its own (`REDIS_DB`) instead, so its kill switch and
audit log disturb no other test.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Literal

import yaml

from chaosbus.contracts.ledger_record import LedgerRecord
from chaosbus.control import operations
from chaosbus.report import RunReport, Status
from chaosbus.runner.shared_routes import Reader, live_readers
from chaosbus.testing import poll_until
from chaosbus_demo.events import EVENT_ID_HEADER, OrderEvent
from chaosbus_demo.services import Kind, LedgerService, ServiceConfig
from chaosbus_demo.traffic import KafkaSink, play
from tests.integration import databases
from tests.integration.runner_support import Stage, ledger_of, service_group, traffic

REDIS_DB = databases.OUTCOMES
RUN_TIMEOUT_S = 90.0

Stop = Literal["kill", "sigint"]


def database(redis_url: str, db: int = REDIS_DB) -> str:
    """The same Redis, the module's own database: `redis://host:port/0` → `…/12`."""
    return databases.database(redis_url, db)


@dataclass(frozen=True)
class Plan:
    """How to bring a run to one outcome."""

    outcome: str  # the test id
    status: Status  # what the run must conclude
    check_status: Status | None  # what `check` concludes; None: check refuses (exit 2)
    kind: Kind = "safe"
    scenario: str = "duplicate-storm"
    overrides: dict[str, Any] = field(default_factory=dict)
    probes: dict[str, dict[str, Any]] = field(default_factory=dict)  # check name → probe
    stop: Stop | None = None  # stopped from outside once a duplicate reached the service
    drifted_share: float = 0.0  # share of events sent as drifted, non-JSON payloads
    events: int = 200
    rate: float = 50.0


@dataclass(frozen=True)
class Command:
    """A finished `chaosbus` process."""

    code: int
    stdout: str
    stderr: str

    @property
    def stderr_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]

    @property
    def flat_stdout(self) -> str:
        """stdout with every run of whitespace one space: a title rich wrapped reads whole."""
        return " ".join(self.stdout.split())


@dataclass(frozen=True)
class Written:
    """The three files a command wrote, as read back."""

    paths: tuple[Path, Path, Path]
    report: RunReport
    markdown: str
    html: str


@dataclass(frozen=True)
class Scenario:
    plan: Plan
    stage: Stage
    run_id: str
    run: Command
    run_reports: Written
    check: Command
    check_reports: Written | None
    ledger: list[LedgerRecord]
    spec_path: Path


def drifted(event: OrderEvent) -> bytes:
    """The event as a connector that switched to form encoding sends it: not JSON."""
    return "&".join(f"{k}={v}" for k, v in event.to_dict().items()).encode()


class DriftingSink(KafkaSink):
    """A source where every event whose index falls in the drifted share (`share` of each
    ten, the first ones) arrives as a non-JSON payload, key and event-id header intact."""

    def __init__(self, stage: Stage, share: float) -> None:
        super().__init__(stage.kafka, stage.source)
        self._per_ten = round(share * 10)
        self._sent = 0

    async def send(self, event: OrderEvent) -> None:
        index, self._sent = self._sent, self._sent + 1
        if index % 10 >= self._per_ten:
            await super().send(event)
            return
        assert self._producer is not None
        await self._producer.send_and_wait(
            self.topic,
            value=drifted(event),
            key=event.order_id.encode(),
            headers=[(EVENT_ID_HEADER, event.event_id.encode())],
        )


@contextlib.asynccontextmanager
async def service_and_traffic(
    stage: Stage, plan: Plan, go: asyncio.Event
) -> AsyncIterator[LedgerService]:
    """The plan's demo service on the destination; its traffic on the source once `go`."""
    config = ServiceConfig(
        kind=plan.kind,
        topic=stage.destination,
        kafka=stage.kafka,
        redis_url=stage.redis_url,
        prefix=stage.prefix,
        group_id=service_group(stage),
    )
    stop = asyncio.Event()
    async with LedgerService(config) as service, DriftingSink(stage, plan.drifted_share) as sink:
        running = asyncio.create_task(service.run(stop))

        async def play_on_go() -> None:
            await go.wait()
            await play(traffic(stage, plan.events), sink, rate=plan.rate)

        playing = asyncio.create_task(play_on_go())
        try:
            yield service
        finally:
            stop.set()
            playing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await playing
            await running


async def start_chaosbus(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "chaosbus",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "CHAOSBUS_LOG_LEVEL": ""},
    )


async def finish(process: asyncio.subprocess.Process, timeout_s: float = RUN_TIMEOUT_S) -> Command:
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout_s)
    except TimeoutError:
        process.kill()
        out, err = await process.communicate()
        raise AssertionError(f"chaosbus did not finish in {timeout_s} s: {err.decode()}") from None
    assert process.returncode is not None
    return Command(process.returncode, out.decode(), err.decode())


async def chaosbus(*args: str, timeout_s: float = RUN_TIMEOUT_S) -> Command:
    return await finish(await start_chaosbus(*args), timeout_s)


async def started_runs(redis_url: str) -> set[str]:
    """The ids of the runs whose `start` the control plane's audit log holds."""
    entries = await operations.audit_log(redis_url, 1_000)
    return {e.run_id for e in entries if e.action == "start" and e.run_id}


async def started_run(redis_url: str, before: set[str]) -> str:
    """The id of the one run that audited its start since `before` was read."""

    async def new() -> set[str]:
        return await started_runs(redis_url) - before

    found = await poll_until(new, bool, timeout_s=30)
    assert len(found) == 1, f"runs started: {found}"
    return found.pop()


async def interposer_reads(stage: Stage) -> None:
    """Wait until an interposer's consumer group holds the stage's source partitions."""

    async def readers() -> list[Reader]:
        found = await live_readers(stage.kafka, [stage.source])
        return [reader for reader in found if reader.looks_like_interposer]

    assert await poll_until(readers, bool, timeout_s=60), "no interposer reads the source"


async def first_duplicate(service: LedgerService) -> None:
    """Wait until a duplicate copy reached the (safe) service: injection is live."""

    async def duplicates() -> int:
        return service.outcomes["duplicate"]

    assert await poll_until(duplicates, bool, timeout_s=30), "no duplicate reached the service"


def write_spec(stage: Stage, plan: Plan, directory: Path) -> Path:
    """The plan's experiment as a file the CLI reads."""
    spec = stage.spec(plan.scenario, **plan.overrides)
    path = directory / f"{plan.outcome}.yaml"
    doc = spec.model_dump(mode="json", by_alias=True, exclude_none=True)
    for check in doc["monitor"]["checks"]:
        check["probe"] = plan.probes.get(check["name"], check["probe"])
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def read_written(path: Path) -> Written:
    md, page = path.with_suffix(".md"), path.with_suffix(".html")
    for each in (path, md, page):
        assert each.is_file(), f"{each} was not written"
    return Written(
        (path, md, page),
        RunReport.model_validate_json(path.read_text(encoding="utf-8")),
        md.read_text(encoding="utf-8"),
        page.read_text(encoding="utf-8"),
    )


async def play_scenario(stage: Stage, plan: Plan, directory: Path, bootstrap: str) -> Scenario:
    """Run the plan's experiment with `chaosbus run`, then `chaosbus check` its run id."""
    spec_path = write_spec(stage, plan, directory)
    address = ("--bootstrap", bootstrap, "--redis", stage.redis_url)
    prefix = ("--key-prefix", stage.prefix)
    go = asyncio.Event()
    async with service_and_traffic(stage, plan, go) as service:
        before = await started_runs(stage.redis_url)
        process = await start_chaosbus(
            "run", str(spec_path), *address, *prefix, "--report", str(directory / "run.json")
        )
        try:
            run_id = await started_run(stage.redis_url, before)
            # The traffic meets a running interposer (it starts after the audit entry, in
            # the run's process or a supervised child), not a backlog the warm-up passes.
            await interposer_reads(stage)
            go.set()
            if plan.stop is not None:
                await first_duplicate(service)
                if plan.stop == "sigint":
                    process.send_signal(signal.SIGINT)
                else:
                    killed = await chaosbus(
                        "kill", "--redis", stage.redis_url, "--reason", "outcome test"
                    )
                    assert killed.code == 0, killed.stderr
            run = await finish(process)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
            if plan.stop == "kill":
                await operations.unkill(stage.redis_url, "test")
    check = await chaosbus(
        "check",
        str(spec_path),
        "--run-id",
        run_id,
        *address,
        *prefix,
        "--report",
        str(directory / "check.json"),
    )
    check_path = directory / "check.json"
    return Scenario(
        plan=plan,
        stage=stage,
        run_id=run_id,
        run=run,
        run_reports=read_written(directory / "run.json"),
        check=check,
        check_reports=read_written(check_path) if check_path.exists() else None,
        ledger=await ledger_of(stage, run_id),
        spec_path=spec_path,
    )


# ---- reading a status, a reason, counts and hypotheses back from each rendering ---------


@dataclass(frozen=True)
class Said:
    """What one rendering says: the facts every rendering must agree on."""

    status: str
    reason: str | None
    anomalies: dict[str, int]
    hypotheses: list[tuple[str, str, str, str, str]]  # when, name, expected, observed, held


def said_by_json(report: RunReport) -> Said:
    from chaosbus.report.markdown import number

    held = {True: "yes", False: "no", None: "unknown"}
    return Said(
        status=report.status,
        reason=report.reason,
        anomalies=dict(report.anomalies.counts),
        hypotheses=[
            (h.phase, h.name, h.threshold, number(h.observed), held[h.held])
            for h in report.hypotheses
        ],
    )


def _table_rows(lines: list[str], heading: str) -> list[list[str]]:
    """The body rows of the first Markdown table after `heading`."""
    start = lines.index(heading)
    rows = []
    in_table = False
    for line in lines[start + 1 :]:
        if line.startswith("|"):
            if in_table:
                rows.append([cell.strip() for cell in line.strip("|").split("|")])
            elif line.startswith("| ---"):
                in_table = True
        elif in_table:
            break
    return rows


def said_by_markdown(text: str) -> Said:
    lines = text.splitlines()
    title = re.fullmatch(r"# .* — ([A-Z]+)", lines[0])
    assert title is not None, lines[0]
    reason = next(
        (line.removeprefix("**Why:** ") for line in lines if line.startswith("**Why:**")), None
    )
    anomalies = {name.strip("*"): int(count) for name, count in _table_rows(lines, "## Anomalies")}
    hypotheses = [
        (when, name.strip("`"), expected, observed, held.strip("*"))
        for when, name, expected, observed, held in _table_rows(lines, "## Hypotheses")
        if when != "—"
    ]
    return Said(title.group(1).lower(), reason, anomalies, hypotheses)


class _Tables(HTMLParser):
    """Text of the cells of every table with an id, the verdict badge and the reason."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, list[list[str]]] = {}
        self.status: str | None = None
        self.reason: str | None = None
        self._table: str | None = None
        self._cell: list[str] | None = None
        self._in_reason = False
        self._reason: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "span" and found.get("id") == "verdict":
            self.status = found.get("data-status")
        elif tag == "p" and found.get("id") == "reason":
            self._in_reason = True
        elif tag == "table" and (table := found.get("id")):
            self._table = table
            self.tables[table] = []
        elif tag == "tr" and self._table is not None:
            self.tables[self._table].append([])
        elif tag == "td" and self._table is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "p" and self._in_reason:
            self._in_reason = False
            self.reason = "".join(self._reason).removeprefix("Why: ")
        elif tag == "table":
            self._table = None
        elif tag == "td" and self._table is not None and self._cell is not None:
            self.tables[self._table][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._in_reason:
            self._reason.append(data)


def said_by_html(page: str) -> Said:
    parsed = _Tables()
    parsed.feed(page)
    assert parsed.status is not None, "no verdict badge"
    anomalies = {
        name: int(count) for name, count in (r for r in parsed.tables["anomaly-counts"] if r)
    }
    hypotheses = [
        (when, name, expected, observed, held)
        for when, name, expected, observed, held in (r for r in parsed.tables["hypotheses"] if r)
        if when != "—"
    ]
    return Said(parsed.status, parsed.reason, anomalies, hypotheses)
