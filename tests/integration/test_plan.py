"""`chaosbus plan`: on the window a real run decided, the dry run predicts the run's ledger
exactly (same seed, same route id), reading the source without a group or a commit."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from chaosbus.control import operations
from chaosbus.control.plane import control_plane
from chaosbus.experiment import ExperimentSpec
from chaosbus.experiment.governance import Approvals
from chaosbus.observability import Providers
from chaosbus.planning.dry_run import dry_run
from chaosbus.planning.summary import PlanSummary
from chaosbus.runner import Progress, run_experiment
from chaosbus.testing import Message, produce
from chaosbus_demo.traffic import EVENT_ID_HEADER
from tests.integration import databases
from tests.integration.databases import flushed
from tests.integration.runner_support import (
    Stage,
    ledger_of,
    make_stage,
    service_and_traffic,
    traffic,
)
from tests.integration.test_traffic import groups_reading

pytestmark = pytest.mark.integration

EVENTS = 150
FAULTS = [
    {"name": "retries", "type": "duplicate", "probability": 0.3, "copies": 2},
    {"name": "gone", "type": "drop", "probability": 0.1},
    {
        "name": "late",
        "type": "delay",
        "probability": 0.2,
        "distribution": {"kind": "fixed", "ms": 300},
        "preserve_order": False,
    },
]
# The traffic (150 events in one batch) is sent once injection starts and decided within it.
SCHEDULE = {"warmup_s": 1, "inject_s": 4, "recover_s": 1}


def injecting(go: asyncio.Event) -> object:
    def on_progress(progress: Progress) -> None:
        if progress.phase == "inject":
            go.set()

    return on_progress


async def send_when(go: asyncio.Event, stage: Stage) -> None:
    """The stage's order events, in one batch once the injection has started."""
    await go.wait()
    messages = [
        Message(
            key=event.order_id.encode(),
            value=event.to_json(),
            headers=((EVENT_ID_HEADER, event.event_id.encode()),),
        )
        for event in traffic(stage, EVENTS)
    ]
    await produce(stage.kafka, stage.source, messages)


def written(spec: ExperimentSpec, path: Path) -> Path:
    path.write_text(yaml.safe_dump(spec.model_dump(mode="json", by_alias=True, exclude_none=True)))
    return path


def plan_cli(file: Path, bootstrap: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chaosbus", "plan", str(file), "--bootstrap", bootstrap, *extra],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


class TestPlanPredictsTheRun:
    async def test_same_seed_same_window_same_fault_counts(
        self, bootstrap: str, redis_url: str, topic_name: str, tmp_path: Path
    ) -> None:
        """Decisions by type and by name, copies and keys touched: the prediction on the
        window equals what the run's ledger says of it, in three partitions; the command
        prints the same prediction, and no consumer group appears on the source."""
        stage = await make_stage(bootstrap, redis_url, topic_name)
        spec = stage.spec("duplicate-storm", schedule=SCHEDULE, faults=FAULTS)
        go = asyncio.Event()
        sending = asyncio.create_task(send_when(go, stage))
        reader = InMemoryMetricReader()
        providers = Providers(None, MeterProvider(metric_readers=[reader]))
        options = stage.options(on_progress=injecting(go), providers=providers)
        async with service_and_traffic(stage, "safe", events=0):
            report = await run_experiment(spec, options)
        await sending
        ledger = await ledger_of(stage, report.run_id)
        assert len(ledger) == EVENTS
        # Every message was decided during the injection, at full intensity.
        assert {r.reason for r in ledger} == {None}
        self._the_run_measured_its_ledger(reader, ledger)

        groups_before = await groups_reading(bootstrap, stage.source)
        predicted = await dry_run(spec, stage.kafka, window_s=600)
        (route,) = predicted.routes
        assert route.messages == EVENTS
        assert route.faults == {
            kind: sum(1 for r in ledger if r.fault == kind) for kind in route.faults
        }
        assert route.by_name == dict(Counter(r.fault_name for r in ledger if r.fault_name))
        assert route.copies == sum(len(r.emissions) for r in ledger)
        touched = {r.key for r in ledger if r.fault != "pass"}
        assert route.keys.touched == len(touched)
        assert route.keys.seen == len({r.key for r in ledger})
        assert set(route.by_name) == {"retries", "gone", "late"}
        assert route.caps == ()

        done = await asyncio.to_thread(
            plan_cli, written(spec, tmp_path / "exp.yaml"), bootstrap, "--json", "--window", "10m"
        )
        assert done.returncode == 0, done.stderr
        assert PlanSummary.model_validate_json(done.stdout).routes == predicted.routes
        # Read-only: no group but the run's has an offset on the source, before or after.
        assert await groups_reading(bootstrap, stage.source) == groups_before == {spec.group_id}

    async def test_an_empty_window_predicts_nothing(
        self, bootstrap: str, redis_url: str, topic_name: str, tmp_path: Path
    ) -> None:
        """A source with no message in the window: one line saying so, exit 0."""
        stage = await make_stage(bootstrap, redis_url, topic_name, partitions=1)
        spec = stage.spec("duplicate-storm", schedule=SCHEDULE)
        done = await asyncio.to_thread(plan_cli, written(spec, tmp_path / "e.yaml"), bootstrap)
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines()[-1] == (
            f"{tmp_path / 'e.yaml'}: no messages in the window of {stage.source}: nothing predicted"
        )

    @staticmethod
    def _the_run_measured_its_ledger(reader: InMemoryMetricReader, ledger: list[Any]) -> None:
        """The run's metrics: its decisions are the ledger's, its guardrail and bound are
        there, the injection's intensity is back to 0."""
        points: dict[str, list[Any]] = {}
        for rm in reader.get_metrics_data().resource_metrics:
            for sm in rm.scope_metrics:
                for metric in sm.metrics:
                    points.setdefault(metric.name, []).extend(metric.data.data_points)
        decided = Counter(
            {p.attributes["chaosbus.fault_name"]: p.value for p in points["chaosbus.decisions"]}
        )
        assert +decided == Counter(r.fault_name or "" for r in ledger)
        bound = points["chaosbus.run.guardrail_bound"]
        assert [(p.attributes["chaosbus.guardrail"], p.value) for p in bound] == [
            ("holding-too-much", 5000)
        ]
        assert [p.value for p in points["chaosbus.run.intensity"]] == [0.0]
        assert {p.attributes["chaosbus.anomaly"] for p in points["chaosbus.run.anomalies"]} >= {
            "duplicate_effect",
            "total",
        }


class TestApproversSeeTheDryRun:
    async def test_the_summary_is_shown_stored_and_shown_again(
        self, bootstrap: str, redis_url: str, topic_name: str, tmp_path: Path
    ) -> None:
        """`approve` prints the dry run and stores it with the sign-off; `approvals` prints
        it again under the approver's name, as stored."""
        stage = await make_stage(bootstrap, redis_url, topic_name, partitions=1)
        await produce(stage.kafka, stage.source, [Message(key=b"o-1", value=b"{}")] * 30)
        spec = stage.spec("duplicate-storm", schedule=SCHEDULE, faults=FAULTS)
        spec = spec.model_copy(update={"approvals": Approvals(required=("security",))})
        file = written(spec, tmp_path / "signed.yaml")
        control = await flushed(redis_url, databases.PLAN)
        await operations.init(control, "test")
        signed = await asyncio.to_thread(
            cli, "approve", str(file), "--role", "security", "--redis", control,
            "--bootstrap", bootstrap,
        )  # fmt: skip
        assert signed.returncode == 0, signed.stderr
        predicted = (await dry_run(spec, stage.kafka)).lines()
        assert signed.stdout.splitlines()[: len(predicted)] == predicted
        shown = await asyncio.to_thread(cli, "approvals", str(file), "--redis", control)
        assert shown.returncode == 0, shown.stderr
        lines = shown.stdout.splitlines()
        at = lines.index(f"security by {(await whoami(control))} was shown:")
        assert lines[at + 1 : at + 1 + len(predicted)] == [f"  {x}" for x in predicted]
        assert "30 messages" in lines[at + 2]


async def whoami(url: str) -> str:
    async with control_plane(url) as plane:
        return plane.user


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chaosbus", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
