"""One run over both sides: a topic route with a demo service, and an HTTP route in front of
the pricing API. One report covers both, and every HTTP decision is in `chaosbus.ledger`."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import aiohttp
import pytest

from chaosbus.local.ports import free_port
from chaosbus.monitors.probes.kafka_reader import read_ledger
from chaosbus.runner import Progress, run_experiment
from chaosbus.streams.http import read_request_log
from chaosbus_demo.pricing import serving
from tests.integration.runner_support import make_stage, service_and_traffic

pytestmark = pytest.mark.integration


class TestBothSides:
    async def test_one_report_and_one_ledger_for_both_sides(
        self, bootstrap: str, redis_url: str, topic_name: str, tmp_path: Path
    ) -> None:
        """Topic faults and HTTP faults in one report; the ledger holds each HTTP decision."""
        stage = await make_stage(bootstrap, redis_url, topic_name)
        port = free_port()
        log_path = tmp_path / "both.requests.jsonl"
        started, done = asyncio.Event(), asyncio.Event()

        def on_progress(progress: Progress) -> None:
            if progress.phase != "preflight":
                started.set()

        async def calls() -> int:
            await started.wait()
            sent = 0
            async with aiohttp.ClientSession() as session:
                while not done.is_set():
                    headers = {"Idempotency-Key": f"evt-{sent}"}
                    body = {"order_id": f"o-{sent}", "amount": 100}
                    url = f"http://127.0.0.1:{port}/price"
                    try:
                        async with session.post(url, json=body, headers=headers) as response:
                            await response.read()
                    except aiohttp.ClientConnectionError:
                        break  # the run is over and its proxy closed
                    sent += 1
                    # A steady trickle of calls, not a condition to wait for.
                    await asyncio.sleep(0.05)
            return sent

        async with serving() as (_, upstream):
            spec = stage.spec(
                "duplicate-storm",
                http_routes=[
                    {
                        "name": "pricing",
                        "listen": f"127.0.0.1:{port}",
                        "upstream": upstream,
                        "faults": [{"type": "error", "probability": 0.5, "status": 503}],
                    }
                ],
            )
            async with service_and_traffic(stage, "safe"):
                caller = asyncio.create_task(calls())
                options = stage.options(on_progress=on_progress, request_log=log_path)
                report = await run_experiment(spec, options)
                done.set()
                await caller
        entries = read_request_log(log_path)
        assert report.status == "held", report.reason
        assert report.faults["duplicate"] > 0
        logged = Counter(f"http.{e.fault}" for e in entries)
        assert (report.faults["http.error"], report.faults["http.pass"]) == (
            logged["http.error"],
            logged["http.pass"],
        )
        assert report.anomalies.counts["unbounded_retries"] == 0
        assert report.metrics.retries["max_attempts"] == 1.0
        ledger, _ = await read_ledger(stage.kafka, report.run_id, source_topic="http:pricing")
        assert sorted(r.offset for r in ledger) == sorted(e.sequence for e in entries)
        assert Counter(r.fault for r in ledger) == logged
        assert sum(p.http_requests_per_s for p in report.timeline) <= len(entries)
