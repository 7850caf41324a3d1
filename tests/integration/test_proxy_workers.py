"""`chaosbus proxy --workers N`: one worker SIGKILLed mid-stream, its partitions go on."""

from __future__ import annotations

import os
import re
import signal
from collections import Counter

import pytest

from chaosbus.contracts.ledger_record import LedgerRecord, decode_ledger
from chaosbus.testing import committed_offsets, create_topics, poll_until, produce, read_all
from tests.integration.proxy_process import ProxyProcess
from tests.integration.test_proxy_crash import committed_at_least, payloads

pytestmark = pytest.mark.integration

PARTITIONS = 4


async def ledger_of(bootstrap: str, run_id: str) -> list[LedgerRecord]:
    records = [
        decoded
        for r in await read_all(bootstrap, "chaosbus.ledger")
        for decoded in decode_ledger(r.value or b"")
    ]
    return [r for r in records if r.run_id == run_id]


class TestProxyWorkers:
    async def test_a_killed_worker_is_restarted_and_nothing_is_lost(
        self, bootstrap: str, topic_name: str
    ) -> None:
        """Two workers in one group; worker 0 SIGKILLed once the group has committed part of
        the stream: the supervisor starts it again, every message reaches the destination
        and the ledger, twice only past the commit point of the kill, and SIGTERM drains
        both (exit 0) with a merged status line per route."""
        source, destination, group = f"{topic_name}.src", f"{topic_name}.dst", f"g-{topic_name}"
        total = 40_000
        run_id = f"workers-{topic_name}"[-40:]
        await create_topics(bootstrap, [source, destination], PARTITIONS)
        await produce(bootstrap, source, payloads(0, total))
        supervisor = ProxyProcess(
            "--route",
            f"{source}:{destination}",
            "--bootstrap",
            bootstrap,
            "--group",
            group,
            "--run-id",
            run_id,
            "--workers",
            "2",
            "--status-every",
            "0.5",
        )
        await supervisor.start()
        assert await supervisor.wait_for_log("worker 1 started (pid", timeout_s=60)
        assert await committed_at_least(bootstrap, group, total // 4, timeout_s=120)
        log_text = supervisor.log.read_text(errors="replace")
        pid = int(re.findall(r"worker 0 started \(pid (\d+)\)", log_text)[-1])
        os.kill(pid, signal.SIGKILL)
        committed = await committed_offsets(bootstrap, group)

        assert await supervisor.wait_for_log("worker 0 was killed by SIGKILL", timeout_s=30)
        # Started again: a second pid for slot 0 (the log is another process's file).
        restarted = await poll_until(
            lambda: supervisor.log.read_text(errors="replace").count("worker 0 started (pid"),
            lambda n: n >= 2,
            timeout_s=30,
        )
        assert restarted == 2
        assert await committed_at_least(bootstrap, group, total, timeout_s=180)
        assert await supervisor.wait_for_log(" workers=2 held=", timeout_s=30)
        code, stderr = await supervisor.terminate()
        assert code == 0, stderr

        sources = {r.value: r for r in await read_all(bootstrap, source)}
        copies = Counter(r.value for r in await read_all(bootstrap, destination))
        assert set(copies) == set(sources)
        assert max(copies.values()) <= 2
        for value, n in copies.items():
            if n > 1:  # only what no worker had committed may be forwarded twice
                origin = sources[value]
                assert origin.offset >= committed.get((source, origin.partition), 0)
        ledgered = Counter((r.partition, r.offset) for r in await ledger_of(bootstrap, run_id))
        assert set(ledgered) == {(r.partition, r.offset) for r in sources.values()}
        # A record is written only after its copy is acknowledged: never more records than
        # deliveries (the killed worker may have forwarded a copy it never ledgered).
        for value, origin in sources.items():
            assert ledgered[(origin.partition, origin.offset)] <= copies[value]
