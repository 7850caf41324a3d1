"""Faults on the real broker: what a consumer of the destination sees is what the ledger says."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

import pytest

from chaosbus.clients.connection import KafkaSettings
from chaosbus.contracts.ledger_record import LedgerRecord
from chaosbus.contracts.routes import Route
from chaosbus.injectors import FaultPlan, parse_fault_document
from chaosbus.streams.interposer import InterposerConfig
from chaosbus.streams.proxy import Proxy
from chaosbus.testing import (
    Message,
    Received,
    create_topics,
    ledger_of,
    produce,
    read_all,
    wait_for_count,
    wait_for_ledger,
)
from tests.integration.proxy_process import ProxyProcess

pytestmark = pytest.mark.integration

MIXED_FAULTS = {
    "faults": [
        {"type": "drop", "probability": 0.05},
        {"type": "duplicate", "probability": 0.1, "copies": 2, "spread_ms": 50},
        {
            "type": "delay",
            "probability": 0.1,
            "distribution": {"kind": "uniform", "min_ms": 0, "max_ms": 300},
            "preserve_order": False,
        },
        {"type": "reorder", "probability": 0.2, "window": 5, "within_ms": 200},
    ]
}


def json_messages(count: int, keys: int) -> list[Message]:
    return [
        Message(key=f"k{i % keys}".encode(), value=json.dumps({"seq": i}).encode())
        for i in range(count)
    ]


GARBAGE_FAULTS = {
    "faults": [
        {"type": "corrupt", "probability": 0.1, "mode": "extra", "how": ["non_json"]},
        {"type": "schema_drift", "probability": 0.1, "mode": "replace", "change": ["remove"]},
        {"type": "replay", "probability": 0.1, "after_ms": 200},
    ]
}


async def run_with_faults(
    bootstrap: str,
    source: str,
    destination: str,
    *,
    seed: int,
    run_id: str,
    expected: int,
    faults: dict[str, object] = MIXED_FAULTS,
) -> tuple[list[LedgerRecord], list[Received]]:
    """Interpose until the ledger holds a record per source message; return ledger and output."""
    ledger_topic = f"{destination}.ledger"
    plan = FaultPlan.from_file(parse_fault_document(faults, "test"), seed=seed)
    config = InterposerConfig(
        kafka=KafkaSettings(bootstrap),
        run_id=run_id,
        group_id=f"g-{destination}",
        ledger_topic=ledger_topic,
    )
    route = Route(source, destination)
    proxy = Proxy([route], config, deciders={route: plan}, create_topics=True)
    stopping = asyncio.Event()
    task = asyncio.create_task(proxy.run(stopping))
    assert await wait_for_ledger(bootstrap, ledger_topic, expected, timeout_s=120) >= expected
    stopping.set()
    await task
    ledger = ledger_of(await read_all(bootstrap, ledger_topic))
    return ledger, await read_all(bootstrap, destination)


class TestFaultsMatchTheLedger:
    async def test_destination_is_exactly_what_the_ledger_records(
        self, bootstrap: str, topic_name: str
    ) -> None:
        """Copies, missing messages and positions on the destination match the ledger."""
        source, destination = f"{topic_name}.src", f"{topic_name}.dst"
        await create_topics(bootstrap, [source], 3)
        await produce(bootstrap, source, json_messages(2_000, 20))
        ledger, output = await run_with_faults(
            bootstrap, source, destination, seed=11, run_id="match", expected=2_000
        )
        sources = {(r.partition, r.offset): r for r in await read_all(bootstrap, source)}
        at = {(r.partition, r.offset): r for r in output}

        assert {(r.partition, r.offset) for r in ledger} == set(sources)
        assert len(output) == sum(len(r.emissions) for r in ledger)
        for record in ledger:
            original = sources[(record.partition, record.offset)]
            copies = [at[(e.partition, e.offset)] for e in record.emissions]  # type: ignore[index]
            assert all(c.value == original.value and c.key == original.key for c in copies)
            expected_copies = {"drop": 0, "duplicate": 3}.get(record.fault, 1)
            assert len(copies) == expected_copies, record
        dropped = {sources[(r.partition, r.offset)].value for r in ledger if r.fault == "drop"}
        assert dropped.isdisjoint({r.value for r in output})
        faults = Counter(r.fault for r in ledger)
        assert set(faults) == {"pass", "drop", "duplicate", "delay", "reorder"}, faults

    async def test_the_ledger_names_each_changed_copy(
        self, bootstrap: str, topic_name: str
    ) -> None:
        """Every emission's variant says how its bytes differ from the source message."""
        source, destination = f"{topic_name}.src", f"{topic_name}.dst"
        await create_topics(bootstrap, [source], 2)
        await produce(bootstrap, source, json_messages(300, 10))
        ledger, output = await run_with_faults(
            bootstrap,
            source,
            destination,
            seed=5,
            run_id="variants",
            expected=300,
            faults=GARBAGE_FAULTS,
        )
        sources = {(r.partition, r.offset): r for r in await read_all(bootstrap, source)}
        at = {(r.partition, r.offset): r for r in output}
        expected = {
            "pass": [None],
            "corrupt": [None, "corrupt:non_json"],
            "schema_drift": ["schema_drift:remove:seq"],
            "replay": [None, "replay"],
        }
        for record in ledger:
            variants = [e.variant for e in record.emissions]
            assert variants == expected[record.fault], record
            original = sources[(record.partition, record.offset)].value
            for emission in record.emissions:
                copy = at[(emission.partition, emission.offset)]  # type: ignore[index]
                assert (copy.value == original) == (emission.variant in (None, "replay"))
        assert {r.fault for r in ledger} == set(expected)

    async def test_same_seed_gives_the_same_ledger(self, bootstrap: str, topic_name: str) -> None:
        """Two runs over the same input with one seed decide identically, message by message."""
        source = f"{topic_name}.src"
        await create_topics(bootstrap, [source], 2)
        await produce(bootstrap, source, json_messages(1_000, 10))

        def decisions(ledger: list[LedgerRecord]) -> dict[tuple[int, int], tuple[object, ...]]:
            # Delays drawn from the seed must match; a reorder window released by `within_ms`
            # expiry waits for wall-clock time, so only its membership is deterministic.
            return {
                (r.partition, r.offset): (
                    r.fault,
                    tuple(
                        (e.copy_number, None if r.fault == "reorder" else e.planned_delay_ms)
                        for e in r.emissions
                    ),
                )
                for r in ledger
            }

        first, _ = await run_with_faults(
            bootstrap, source, f"{topic_name}.one", seed=5, run_id="one", expected=1_000
        )
        second, _ = await run_with_faults(
            bootstrap, source, f"{topic_name}.two", seed=5, run_id="two", expected=1_000
        )
        assert decisions(first) == decisions(second)
        assert Counter(r.fault for r in first)["pass"] < 1_000


STALL_MS = 4_000
# Fires on one message only (partition 0's first); the stall then holds the rest of it.
STALLED_SHARD = {
    "faults": [
        {"name": "shard-stuck", "type": "stall", "probability": 1, "duration_ms": STALL_MS,
         "match": {"json": {"p": {"equals": 0}, "seq": {"equals": 0}}}},
    ]
}  # fmt: skip


class TestStalledShard:
    async def test_one_partition_stops_the_others_flow_then_it_catches_up_in_order(
        self, bootstrap: str, topic_name: str
    ) -> None:
        """A stall on partition 0 holds all of it until the stall ends and releases it in
        source order; partition 1 flows meanwhile; nothing is lost."""
        source, destination = f"{topic_name}.src", f"{topic_name}.dst"
        await create_topics(bootstrap, [source], 2)
        # One key per source partition: each lands on one destination partition.
        messages = [
            Message(f"p{p}".encode(), json.dumps({"p": p, "seq": i}).encode(), partition=p)
            for i in range(150)
            for p in (0, 1)
        ]
        await produce(bootstrap, source, messages)
        ledger, output = await run_with_faults(
            bootstrap, source, destination, seed=3, run_id="stall", expected=300,
            faults=STALLED_SHARD,
        )  # fmt: skip
        assert sorted(r.value or b"" for r in output) == sorted(m.value or b"" for m in messages)
        assert len(output) == sum(len(r.emissions) for r in ledger) == 300
        by_partition = {p: sorted((r for r in ledger if r.partition == p), key=lambda r: r.offset)
                        for p in (0, 1)}  # fmt: skip
        stalled = [r for r in by_partition[0] if r.fault == "stall"]
        assert stalled[0].offset == 0
        assert len(stalled) > 1  # held whatever the match says
        assert stalled[0].emissions[0].planned_delay_ms == STALL_MS
        assert {r.fault_name for r in stalled} == {"shard-stuck"}
        ends = {r.decided_at_ms + r.emissions[0].planned_delay_ms for r in stalled}
        assert len(ends) == 1  # one stall, every held message due at its end
        (until,) = ends
        assert stalled == [r for r in by_partition[0] if r.decided_at_ms < until]
        assert all(r.emissions[0].sent_at_ms >= until for r in stalled)  # type: ignore[operator]
        # Partition 1 flowed meanwhile: what it decided during the stall left during it.
        during = [r for r in by_partition[1] if r.decided_at_ms < until]
        assert during
        assert all(r.fault == "pass" and r.emissions[0].planned_delay_ms == 0 for r in during)
        assert all(r.emissions[0].sent_at_ms < until for r in during)  # type: ignore[operator]
        # Each source partition in its own order on the destination.
        for records in by_partition.values():
            places = [(r.emissions[0].partition, r.emissions[0].offset) for r in records]
            assert len({partition for partition, _ in places}) == 1
            assert places == sorted(places)


class TestHeldMessagesSurviveACrash:
    async def test_sigkill_while_holding_delayed_messages_loses_none(
        self, bootstrap: str, redis_url: str, topic_name: str, tmp_path: Path
    ) -> None:
        """1,000 messages held by a long delay when the proxy is killed all arrive after restart."""
        source, destination, group = f"{topic_name}.src", f"{topic_name}.dst", f"g-{topic_name}"
        await create_topics(bootstrap, [source, destination], 2)
        await produce(bootstrap, source, json_messages(1_000, 10))
        faults = tmp_path / "hold.yaml"
        faults.write_text(
            "faults:\n  - type: delay\n    probability: 1.0\n"
            "    distribution: {kind: fixed, ms: 600000}\n"
        )
        common = ("--route", f"{source}:{destination}", "--bootstrap", bootstrap, "--group", group)
        holding = ProxyProcess(
            *common,
            "--fault",
            str(faults),
            "--seed",
            "1",
            "--status-every",
            "0.2",
            "--redis",
            redis_url,
        )
        await holding.start()
        assert await holding.wait_for_log(f"{source}->{destination} held=1000 ", timeout_s=60)
        await holding.kill()
        assert await wait_for_count(bootstrap, destination, 1, timeout_s=0) == 0

        passthrough = ProxyProcess(*common)
        await passthrough.start()
        assert await wait_for_count(bootstrap, destination, 1_000, timeout_s=60) >= 1_000
        code, log = await passthrough.terminate()
        assert code == 0, log
        values = Counter(r.value for r in await read_all(bootstrap, destination))
        assert set(values) == {m.value for m in json_messages(1_000, 10)}
        assert max(values.values()) == 1
