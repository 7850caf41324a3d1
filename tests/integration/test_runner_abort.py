"""Aborts on the real broker: a guardrail breach and the kill switch stop a run, losing nothing."""

from __future__ import annotations

import asyncio
import json

import pytest

from chaosbus.contracts.ledger_record import LEDGER_TOPIC, decode_ledger
from chaosbus.control import operations
from chaosbus.runner import ExperimentRun, Progress
from chaosbus.testing import Message, produce, read_all
from tests.integration.runner_support import Stage, ledger_of, make_stage

pytestmark = pytest.mark.integration

MESSAGES = 150
HOLD_EVERYTHING = [
    {"name": "lose-some", "type": "drop", "probability": 0.1},
    {
        "name": "hold-the-rest",
        "type": "delay",
        "probability": 1.0,
        "distribution": {"kind": "fixed", "ms": 60_000},
    },
]


def orders(count: int) -> list[Message]:
    return [
        Message(
            key=f"o-{i % 20}".encode(),
            value=json.dumps(
                {"event_id": f"e-{i}", "version": i, "customer": "c-1", "type": "updated"}
            ).encode(),
        )
        for i in range(count)
    ]


async def assert_nothing_lost(stage: Stage, run_id: str) -> None:
    """Every source message is on the destination, or in the run's ledger as dropped."""
    source = await read_all(stage.kafka, stage.source)
    forwarded = {(r.key, r.value) for r in await read_all(stage.kafka, stage.destination)}
    ledger = [
        record
        for r in await read_all(stage.kafka, LEDGER_TOPIC)
        for record in decode_ledger(r.value or b"")
    ]
    dropped = {(r.partition, r.offset) for r in ledger if r.run_id == run_id and r.dropped}
    missing = [
        r
        for r in source
        if (r.key, r.value) not in forwarded and (r.partition, r.offset) not in dropped
    ]
    assert not missing, f"{len(missing)} source messages neither forwarded nor dropped"
    assert len(source) == MESSAGES


class TestGuardrail:
    async def test_breach_aborts_and_releases_everything(
        self, bootstrap: str, redis_url: str, topic_name: str
    ) -> None:
        """Holding more than a guardrail allows aborts with exit 3; held messages are released."""
        stage = await make_stage(bootstrap, redis_url, topic_name)
        await produce(bootstrap, stage.source, orders(MESSAGES))
        spec = stage.spec(
            "stale-redelivery",
            schedule={"warmup_s": 0, "inject_s": 20, "recover_s": 1},
            faults=HOLD_EVERYTHING,
            guardrails=[{"name": "held", "metric": "held", "max": 10, "for_s": 0.5}],
        )
        run = ExperimentRun(spec, stage.options())
        report = await run.run()
        assert report.status == "aborted"
        assert report.exit_code == 3
        assert report.reason is not None
        assert report.reason.startswith("guardrail held breached")
        assert report.guardrails[0].breached
        assert report.duration_s < 15  # not the 60 s the delay asked for
        ledger = await ledger_of(stage, run.run_id)
        assert report.faults["delay"] == sum(r.fault == "delay" for r in ledger)
        await assert_nothing_lost(stage, run.run_id)


class TestKillSwitch:
    async def test_kill_aborts_a_run_within_a_second(
        self, bootstrap: str, redis_url: str, topic_name: str
    ) -> None:
        """`kill` during injection: nothing held within 1 s, status aborted, nothing lost."""
        stage = await make_stage(bootstrap, redis_url, topic_name)
        await produce(bootstrap, stage.source, orders(MESSAGES))
        spec = stage.spec(
            "stale-redelivery",
            schedule={"warmup_s": 0, "inject_s": 20, "recover_s": 1},
            faults=HOLD_EVERYTHING,
        )
        holding = asyncio.Event()
        released = asyncio.Event()

        def watch(progress: Progress) -> None:
            if progress.held > 0:
                holding.set()
            elif holding.is_set():
                released.set()

        run = ExperimentRun(spec, stage.options(on_progress=watch, tick_ms=50))
        running = asyncio.create_task(run.run())
        try:
            await asyncio.wait_for(holding.wait(), timeout=20)
            await operations.kill(redis_url, "test", "integration test", namespace=stage.namespace)
            await asyncio.wait_for(released.wait(), timeout=1.0)
            report = await running
        finally:
            await operations.unkill(redis_url, "test", namespace=stage.namespace)
        assert report.status == "aborted"
        # The actor is the Redis user (here the unauthenticated `default`), not free text.
        assert "kill switch engaged by default: integration test" in (report.reason or "")
        await assert_nothing_lost(stage, run.run_id)
        actions = [e.action for e in await operations.audit_log(redis_url, 10, stage.namespace)]
        assert actions[:5] == ["init", "start", "kill", "abort", "unkill"]
