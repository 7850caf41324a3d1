"""An HTTP-only run whose guardrail names a retry metric: a client that retries without
bound breaches it and the run aborts (that the abort disables the HTTP plans is pinned in
tests/unit/test_runner_http_side.py)."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import aiohttp
import pytest

from chaosbus.clients.connection import KafkaSettings
from chaosbus.control import operations
from chaosbus.experiment import parse_experiment
from chaosbus.local.ports import free_port
from chaosbus.runner import Progress, RunOptions, run_experiment
from chaosbus.streams.http import read_request_log
from chaosbus_demo.pricing import serving

pytestmark = pytest.mark.integration


async def retry_forever(port: int, request_id: str, stop: asyncio.Event) -> int:
    """The naive automation: the same call again every 50 ms until it succeeds."""
    attempts = 0
    async with aiohttp.ClientSession() as session:
        while not stop.is_set():
            attempts += 1
            try:
                async with session.post(
                    f"http://127.0.0.1:{port}/price",
                    json={"order_id": request_id, "amount": 1},
                    headers={"Idempotency-Key": request_id},
                ) as response:
                    if response.status == 200:
                        return attempts
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.05)
    return attempts


class TestHttpGuardrail:
    async def test_a_retry_guardrail_aborts_and_stops_http_faults(
        self, bootstrap: str, redis_url: str, tmp_path: Path
    ) -> None:
        """retries.max_attempts > 5 aborts the run, naming the guardrail."""
        port = free_port()
        tag = uuid.uuid4().hex[:8]
        injecting = asyncio.Event()

        def on_progress(progress: Progress) -> None:
            if progress.phase == "inject":
                injecting.set()

        async with serving() as (_, upstream):
            spec = parse_experiment(
                {
                    "name": "http-guardrail",
                    "hypothesis": "The automation gives up before its sixth attempt.",
                    "seed": 5,
                    "schedule": {"warmup_s": 1, "inject_s": 20, "recover_s": 1},
                    "http_routes": [
                        {
                            "name": "pricing",
                            "listen": f"127.0.0.1:{port}",
                            "upstream": upstream,
                            "faults": [{"type": "error", "probability": 1, "status": 503}],
                        }
                    ],
                    "guardrails": [{"name": "runaway", "metric": "retries.max_attempts", "max": 5}],
                }
            )
            # The run's own control namespace starts released (the switch fails closed).
            await operations.init(redis_url, "test", namespace=f"chaosbus-test-{tag}")
            options = RunOptions(
                kafka=KafkaSettings(bootstrap),
                redis_url=redis_url,
                actor="integration-test",
                control_namespace=f"chaosbus-test-{tag}",
                on_progress=on_progress,
                request_log=tmp_path / "guardrail.requests.jsonl",
            )
            stop = asyncio.Event()
            running = asyncio.create_task(run_experiment(spec, options))
            # A run refused before injection must fail the test, not leave it waiting.
            waiting = asyncio.create_task(injecting.wait())
            await asyncio.wait({running, waiting}, return_when=asyncio.FIRST_COMPLETED)
            waiting.cancel()
            if running.done():
                running.result()  # raises what refused the run
                pytest.fail("the run ended before it injected")
            client = asyncio.create_task(retry_forever(port, f"evt-{tag}", stop))
            report = await running
            stop.set()
            await client
        entries = read_request_log(tmp_path / "guardrail.requests.jsonl")
        assert report.status == "aborted"
        assert (report.reason or "").startswith("guardrail runaway breached: observed ")
        assert report.guardrails[0].breached
        assert report.anomalies.counts["unbounded_retries"] == 1
        # The run winds down at once on the abort and closes its proxy (nothing is held on
        # the HTTP side): the client saw errors only, one more than the bound at least.
        client_attempts = [e.fault for e in entries if e.request_id == f"evt-{tag}"]
        assert set(client_attempts) == {"error"}
        assert len(client_attempts) >= 6
        assert [p.name for p in report.phases][-2:] == ["inject", "abort"]
        faulted = [e for e in entries if e.fault == "error"]
        assert report.faults["http.error"] == len(faulted)
        assert report.http_routes == [f"pricing: 127.0.0.1:{port} -> {upstream}"]
