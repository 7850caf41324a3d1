"""The proxy process killed or its broker restarted: nothing lost, duplicates bounded."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest

from chaosbus.local.stack import LocalStack, default_cache
from chaosbus.testing import (
    Message,
    committed_offsets,
    create_topics,
    free_port_pair,
    poll_until,
    produce,
    read_all,
    wait_for_count,
)
from tests.integration.proxy_process import ProxyProcess

pytestmark = pytest.mark.integration


async def committed_at_least(bootstrap: str, group: str, count: int, *, timeout_s: float) -> bool:
    # Polling another process's commits: there is no event to await across processes.
    committed = await poll_until(
        lambda: committed_offsets(bootstrap, group),
        lambda offsets: sum(offsets.values()) >= count,
        timeout_s=timeout_s,
    )
    return sum(committed.values()) >= count


def payloads(start: int, count: int) -> list[Message]:
    return [
        Message(key=f"k{i % 50}".encode(), value=f"{i}".encode())
        for i in range(start, start + count)
    ]


class TestProxyCrash:
    async def test_sigkill_mid_stream_loses_nothing(self, bootstrap: str, topic_name: str) -> None:
        """After SIGKILL and restart every message arrives; duplicates lie past the last commit."""
        source, destination, group = f"{topic_name}.src", f"{topic_name}.dst", f"g-{topic_name}"
        # Large enough that the first proxy is killed mid-stream, one commit interval in.
        total = 60_000
        await create_topics(bootstrap, [source, destination], 3)
        await produce(bootstrap, source, payloads(0, total))
        args = ("--route", f"{source}:{destination}", "--bootstrap", bootstrap, "--group", group)

        first = ProxyProcess(*args, "--run-id", "crash-1")
        await first.start()
        # Killed once it has committed part of the stream, so the commit point means something.
        assert await committed_at_least(bootstrap, group, total // 4, timeout_s=120)
        await first.kill()
        committed = await committed_offsets(bootstrap, group)

        second = ProxyProcess(*args, "--run-id", "crash-2", "--status-every", "0.5")
        await second.start()
        # Its first status line means its loop runs and SIGTERM is handled (not fatal).
        assert await second.wait_for_log(" held=", timeout_s=60)
        sources = {r.value: r for r in await read_all(bootstrap, source)}
        # Everything committed means everything forwarded and acknowledged.
        assert await committed_at_least(bootstrap, group, total, timeout_s=120)
        code, stderr = await second.terminate()
        assert code == 0, stderr

        forwarded = await read_all(bootstrap, destination)
        copies = Counter(r.value for r in forwarded)
        assert set(copies) == set(sources)
        duplicated = [value for value, n in copies.items() if n > 1]
        for value in duplicated:
            origin = sources[value]
            # Only what the killed process had not committed may be forwarded twice.
            assert origin.offset >= committed.get((source, origin.partition), 0)
        assert max(copies.values()) <= 2
        window = total - sum(committed.values())
        print(f"\nsigkill: {len(duplicated)} duplicates of {total}; uncommitted window {window}")
        assert len(duplicated) <= window


@pytest.fixture
def private_stack(tmp_path: Path) -> LocalStack:
    """A broker of this test's own, so stopping it disturbs no other test."""
    stack = LocalStack(
        home=tmp_path,
        cache=default_cache(),
        kafka_port=free_port_pair(),
        redis_port=free_port_pair(),
    )
    stack.up()
    yield stack  # type: ignore[misc]
    stack.down()


class TestBrokerRestart:
    async def test_proxy_recovers_when_the_broker_restarts(self, private_stack: LocalStack) -> None:
        """A broker stopped and started under a running proxy: every message still arrives."""
        bootstrap = private_stack.status().bootstrap
        source, destination = "restart.src", "restart.dst"
        await create_topics(bootstrap, [source, destination], 2)
        await produce(bootstrap, source, payloads(0, 2_000))
        proxy = ProxyProcess(
            "--route", f"{source}:{destination}", "--bootstrap", bootstrap, "--group", "g-restart"
        )
        await proxy.start()
        assert await wait_for_count(bootstrap, destination, 2_000, timeout_s=60) >= 2_000

        kafka = private_stack.kafka()
        await asyncio.to_thread(kafka.stop)
        await asyncio.to_thread(kafka.start)
        await produce(bootstrap, source, payloads(2_000, 2_000))
        assert await wait_for_count(bootstrap, destination, 4_000, timeout_s=120) >= 4_000
        code, stderr = await proxy.terminate()
        assert code == 0, stderr

        copies = Counter(r.value for r in await read_all(bootstrap, destination))
        assert set(copies) == {m.value for m in payloads(0, 4_000)}
        print(f"\nbroker restart: {sum(n - 1 for n in copies.values())} duplicates of 4000")
