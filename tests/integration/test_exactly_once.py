"""Exactly-once mode on the real broker: no duplicate and no loss, across a SIGKILL too.

Destinations and the ledger are read with read_committed (`chaosbus.testing.read_all`):
what an aborted or never-committed transaction wrote is not there for a service either.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

import pytest

from chaosbus.clients.connection import KafkaSettings
from chaosbus.contracts.ledger_record import LedgerRecord
from chaosbus.contracts.routes import Route
from chaosbus.streams.interposer import InterposerConfig
from chaosbus.streams.proxy import Proxy
from chaosbus.testing import (
    Message,
    create_topics,
    ledger_of,
    poll_until,
    produce,
    read_all,
    wait_for_committed_count,
)
from tests.integration.proxy_process import ProxyProcess

pytestmark = pytest.mark.integration


def json_messages(count: int, keys: int) -> list[Message]:
    return [
        Message(key=f"k{i % keys}".encode(), value=json.dumps({"seq": i}).encode())
        for i in range(count)
    ]


class TestExactlyOncePassthrough:
    async def test_forwards_every_message_once(self, bootstrap: str, topic_name: str) -> None:
        source, destination = f"{topic_name}.src", f"{topic_name}.dst"
        ledger_topic = f"{destination}.ledger"
        await create_topics(bootstrap, [source], 3)
        await produce(bootstrap, source, json_messages(3_000, 30))
        config = InterposerConfig(
            kafka=KafkaSettings(bootstrap),
            run_id="eos",
            group_id=f"g-{topic_name}",
            ledger_topic=ledger_topic,
        )
        proxy = Proxy(
            [Route(source, destination)], config, create_topics=True, delivery="exactly-once"
        )
        stopping = asyncio.Event()
        task = asyncio.create_task(proxy.run(stopping))
        # The ledger is written in the transactions that send: committed output is ledgered.
        assert await wait_for_committed_count(bootstrap, destination, 3_000, timeout_s=90) >= 3_000
        stopping.set()
        await task

        output = await read_all(bootstrap, destination)
        copies = Counter(r.value for r in output)
        assert set(copies) == {m.value for m in json_messages(3_000, 30)}
        assert max(copies.values()) == 1
        ledger = ledger_of(await read_all(bootstrap, ledger_topic))
        assert len(ledger) == 3_000
        at = {(r.partition, r.offset) for r in output}
        # Transactional sends are acknowledged with their offsets before the commit.
        assert {(e.partition, e.offset) for r in ledger for e in r.emissions} == at


def proxy_args(source: str, destination: str, bootstrap: str, group: str) -> tuple[str, ...]:
    return (
        "--route",
        f"{source}:{destination}",
        "--bootstrap",
        bootstrap,
        "--group",
        group,
        "--delivery",
        "exactly-once",
        "--status-every",
        "0.2",
    )


class TestExactlyOnceAcrossACrash:
    async def test_sigkill_while_holding_duplicates_none_and_loses_none(
        self, bootstrap: str, redis_url: str, topic_name: str, tmp_path: Path
    ) -> None:
        """1,000 parked messages of a killed proxy arrive exactly once through its successor."""
        source, destination, group = f"{topic_name}.src", f"{topic_name}.dst", f"g-{topic_name}"
        await create_topics(bootstrap, [source, destination], 2)
        await produce(bootstrap, source, json_messages(1_000, 10))
        faults = tmp_path / "hold.yaml"
        faults.write_text(
            "faults:\n  - type: delay\n    probability: 1.0\n"
            "    distribution: {kind: fixed, ms: 600000}\n"
        )
        common = proxy_args(source, destination, bootstrap, group)
        holding = ProxyProcess(*common, "--fault", str(faults), "--seed", "1", "--redis", redis_url)
        await holding.start()
        assert await holding.wait_for_log(f"{source}->{destination} held=1000 ", timeout_s=60)
        await holding.kill()
        assert len(await read_all(bootstrap, destination)) == 0

        successor = ProxyProcess(*common)
        await successor.start()
        assert await wait_for_committed_count(bootstrap, destination, 1_000, timeout_s=60) >= 1_000
        code, log = await successor.terminate()
        assert code == 0, log
        values = Counter(r.value for r in await read_all(bootstrap, destination))
        expected = {m.value for m in json_messages(1_000, 10)}
        lost = len(expected - set(values))
        duplicated = sum(n - 1 for n in values.values())
        print(f"\nexactly-once sigkill: {duplicated} duplicates, {lost} lost of 1000")
        assert (duplicated, lost) == (0, 0)
        assert set(values) == expected

    async def test_injected_duplicates_are_what_the_ledger_says_across_a_crash(
        self, bootstrap: str, redis_url: str, topic_name: str, tmp_path: Path
    ) -> None:
        """Parked extra copies survive a SIGKILL; each message has one record, true to output."""
        source, destination, group = f"{topic_name}.src", f"{topic_name}.dst", f"g-{topic_name}"
        total = 2_000
        await create_topics(bootstrap, [source, destination], 2)
        await produce(bootstrap, source, json_messages(total, 20))
        faults = tmp_path / "dup.yaml"
        # Copy 0 goes out at once, copies 1 and 2 are parked for up to ten minutes.
        faults.write_text(
            "faults:\n  - type: duplicate\n    probability: 0.3\n    copies: 2\n"
            "    spread_ms: 600000\n"
        )
        common = proxy_args(source, destination, bootstrap, group)
        ledger_topic = "chaosbus.ledger"
        first = ProxyProcess(
            *common,
            "--fault",
            str(faults),
            "--seed",
            "3",
            "--run-id",
            "dup-1",
            "--redis",
            redis_url,
        )
        await first.start()
        assert await first.wait_for_log(f"{source}->{destination} held=", timeout_s=60)
        assert await first.wait_for_log("duplicate=", timeout_s=60)
        await first.kill()

        second = ProxyProcess(*common, "--run-id", "dup-2")
        await second.start()
        ours = await _wait_ledger(bootstrap, ledger_topic, source, total)
        code, log = await second.terminate()
        assert code == 0, log

        output = await read_all(bootstrap, destination)
        at = {(r.partition, r.offset): r for r in output}
        sources = {(r.partition, r.offset): r for r in await read_all(bootstrap, source)}
        keys = Counter((r.partition, r.offset) for r in ours)
        assert set(keys) == set(sources)
        assert max(keys.values()) == 1
        assert len(output) == sum(len(r.emissions) for r in ours)
        faulted = Counter(r.fault for r in ours)
        for record in ours:
            original = sources[(record.partition, record.offset)]
            copies = [at[(e.partition, e.offset)] for e in record.emissions]  # type: ignore[index]
            assert all(c.value == original.value for c in copies)
            assert sorted(e.copy_number for e in record.emissions) == list(
                range(3 if record.fault == "duplicate" else 1)
            ), record
        print(f"\nexactly-once duplicates across a crash: {dict(faulted)}, {len(output)} out")
        assert faulted["duplicate"] > 0


async def _wait_ledger(bootstrap: str, topic: str, source: str, count: int) -> list[LedgerRecord]:
    """This source's records on the shared ledger topic, once there is one per message."""
    """This source's records on the shared ledger topic, once there is one per message."""

    async def records() -> list[LedgerRecord]:
        return [r for r in ledger_of(await read_all(bootstrap, topic)) if r.topic == source]

    # Another process's progress: nothing to await but the topic itself.
    return await poll_until(records, lambda found: len(found) >= count, timeout_s=90, every_s=0.5)
