"""Switches scoped to a fault, on two real replicas of `chaosbus proxy` in one group: a
paused fault stops within 1 s in both, what a paused fault holds is released as the kill
switch releases it, the rest goes on injecting, and `resume` brings it back; audited."""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from chaosbus.clients.connection import KafkaSettings
from chaosbus.clients.consumers import standalone_consumer
from chaosbus.contracts.ledger_record import LedgerRecord
from chaosbus.control import operations
from chaosbus.control.scopes import Scope
from chaosbus.monitors.probes.kafka_reader import read_ledger
from chaosbus.testing import Message, poll_until, produce, topic_end_offsets
from tests.integration import databases
from tests.integration.databases import flushed
from tests.integration.proxy_process import ProxyProcess
from tests.integration.runner_support import ready_topics

pytestmark = pytest.mark.integration

FAULTS = """\
faults:
  - {name: twice, type: duplicate, probability: 0.5, copies: 1}
  - {name: late, type: delay, probability: 0.3, distribution: {kind: fixed, ms: 600000},
     preserve_order: false}
"""
REPLICAS = ("r1", "r2")
PROMISE_S = 1.0


def batch(start: int, count: int) -> list[Message]:
    return [
        Message(key=f"k{i}".encode(), value=str(i).encode()) for i in range(start, start + count)
    ]


def run_id(replica: str, topic_name: str) -> str:
    return f"{replica}-{topic_name[-30:]}"


def records_of(proxy: ProxyProcess) -> list[dict[str, Any]]:
    lines = proxy.log.read_text().splitlines()
    return [json.loads(line) for line in lines if line.startswith("{")]


HELD = re.compile(r" held=(\d+) ")


def held_now(proxy: ProxyProcess) -> int:
    """What the replica's last status line says it holds (0 before its first)."""
    lines = [HELD.search(str(r.get("message", ""))) for r in records_of(proxy)]
    found = [int(m.group(1)) for m in lines if m]
    return found[-1] if found else 0


def first_record(proxy: ProxyProcess, action: str, holds: str, since: float) -> float | None:
    """When (epoch s) the replica first logged `action` with `holds` in the record, at or
    after `since`."""
    for record in records_of(proxy):
        if record.get("action") == action and holds in json.dumps(record):
            at = datetime.fromisoformat(record["time"]).timestamp()
            if at >= since:
                return at
    return None


class TestPauseInTwoReplicas:
    async def test_a_paused_fault_stops_within_a_second_in_both_and_resumes(
        self,
        bootstrap: str,
        redis_url: str,
        topic_name: str,
        tmp_path: Path,
        record_property: Callable[[str, object], None],
    ) -> None:
        """pause --fault twice: both replicas log it within 1 s, then pass what `twice`
        would take (reason `paused`) while `late` goes on; pause --fault late releases its
        held copies within 1 s in both; resume brings `twice` back in both; all audited."""
        source, destination = f"{topic_name}.src", f"{topic_name}.dst"
        await ready_topics(bootstrap, [source, destination], 2)
        control = await flushed(redis_url, databases.PAUSE)
        await operations.init(control, "test")
        faults = tmp_path / "faults.yaml"
        faults.write_text(FAULTS)
        kafka = KafkaSettings(bootstrap)
        replicas = {
            run: ProxyProcess(
                *("--route", f"{source}:{destination}", "--bootstrap", bootstrap),
                *("--group", f"g-{topic_name}", "--fault", str(faults), "--seed", "3"),
                *("--redis", control, "--run-id", run_id(run, topic_name)),
                *("--log-format", "json", "--status-every", "0.2"),
            )
            for run in REPLICAS
        }

        async def ledgers() -> dict[str, list[LedgerRecord]]:
            return {
                run: (await read_ledger(kafka, run_id(run, topic_name), source_topic=source))[0]
                for run in REPLICAS
            }

        try:
            for proxy in replicas.values():
                await proxy.start()
                assert await proxy.wait_for_log("control plane: clear", timeout_s=60)
            # Until both replicas decide (the second one's join rebalances the group).
            sent = 0

            async def both_deciding() -> dict[str, list[LedgerRecord]]:
                nonlocal sent
                await produce(bootstrap, source, batch(sent, 20))
                sent += 20
                return await ledgers()

            found = await poll_until(
                both_deciding, lambda f: all(f.values()), timeout_s=60, every_s=0.5
            )
            assert all(found.values())

            # Pause `twice`: within 1 s in both replicas.
            asked = time.time()
            assert await operations.pause(control, Scope("fault", "twice"), "test", "drill")
            seen = await poll_until(
                lambda: [first_record(p, "pause", "fault:twice", asked) for p in replicas.values()],
                lambda times: None not in times,
                timeout_s=5,
                every_s=0.05,
            )
            assert all(t is not None and t - asked < PROMISE_S for t in seen), (asked, seen)
            record_property("pause_seen_after_s", [round(t - asked, 3) for t in seen if t])

            # What is read now: no duplicate in either replica, `late` still delaying.
            before = await self._ends(kafka, source)
            await produce(bootstrap, source, batch(sent, 60))
            sent += 60
            after = await poll_until(
                ledgers,
                # Each replica reads its own partition, at its own pace.
                lambda f: all(len(self._past(r, before)) >= 10 for r in f.values()),
                timeout_s=30,
            )
            for run in REPLICAS:
                decided = Counter((r.fault, r.reason) for r in self._past(after[run], before))
                assert decided[("duplicate", None)] == 0, (run, decided)
                assert decided[("pass", "paused")] > 0, (run, decided)

            # Pause `late` once both replicas hold a copy of it (each holds only what its own
            # partitions drew, and a rebalance releases what a replica held).
            async def holding() -> list[int]:
                nonlocal sent
                counts = [held_now(p) for p in replicas.values()]
                if 0 in counts:
                    await produce(bootstrap, source, batch(sent, 20))
                    sent += 20
                return counts

            holds = await poll_until(holding, lambda c: 0 not in c, timeout_s=60, every_s=0.5)
            assert 0 not in holds, holds
            # Pause `late`: its held copies are released within 1 s in both replicas.
            asked = time.time()
            assert await operations.pause(control, Scope("fault", "late"), "test", None)
            released = await poll_until(
                lambda: [
                    first_record(p, "release", '"cause": "pause"', asked) for p in replicas.values()
                ],
                lambda times: None not in times,
                timeout_s=5,
                every_s=0.05,
            )
            assert all(t is not None and t - asked < PROMISE_S for t in released), released
            record_property("released_after_s", [round(t - asked, 3) for t in released if t])
            complete = await poll_until(
                ledgers, lambda f: sum(len(r) for r in f.values()) >= sent, timeout_s=30
            )
            assert sum(len(r) for r in complete.values()) == sent

            # Resume both: `twice` duplicates again in both replicas.
            asked = time.time()
            for name in ("twice", "late"):
                assert await operations.resume(control, Scope("fault", name), "test")
            resumed = await poll_until(
                lambda: [
                    first_record(p, "pause", '"paused": []', asked) for p in replicas.values()
                ],
                lambda times: None not in times,
                timeout_s=5,
                every_s=0.05,
            )
            assert all(t is not None and t - asked < PROMISE_S for t in resumed), resumed
            record_property("resume_seen_after_s", [round(t - asked, 3) for t in resumed if t])
            before = await self._ends(kafka, source)
            await produce(bootstrap, source, batch(sent, 60))
            again = await poll_until(
                ledgers,
                lambda f: all(
                    any(r.fault == "duplicate" for r in self._past(rs, before)) for rs in f.values()
                ),
                timeout_s=30,
            )
            for run in REPLICAS:
                assert any(r.fault == "duplicate" for r in self._past(again[run], before)), run
        finally:
            for proxy in replicas.values():
                code, tail = await proxy.terminate()
                assert code == 0, tail
        audit = [(e.action, e.detail) for e in await operations.audit_log(control, 50)]
        assert [a for a in audit if a[0] in ("pause", "resume")] == [
            ("pause", "fault:twice: drill"),
            ("pause", "fault:late"),
            ("resume", "fault:twice"),
            ("resume", "fault:late"),
        ]

    @staticmethod
    async def _ends(kafka: KafkaSettings, topic: str) -> dict[int, int]:
        async with standalone_consumer(kafka) as consumer:
            return dict(await topic_end_offsets(consumer, topic))

    @staticmethod
    def _past(records: list[LedgerRecord], ends: dict[int, int]) -> list[LedgerRecord]:
        """The records of messages produced after `ends` were taken."""
        return [r for r in records if r.offset >= ends.get(r.partition, 0)]
