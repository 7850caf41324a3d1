"""Scenario flaky-api end to end: `run_experiment` puts the pricing API behind its HTTP route,
a real Node-RED flow calls it while the run injects 503s and resets, and the verdict judges
the flow's retries. The naive flow (fixed delay, no bound) is violated with
unbounded_retries and no_backoff; the flow with bounded exponential backoff holds."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from chaosbus.clients.connection import KafkaSettings
from chaosbus.control import operations
from chaosbus.experiment import with_overrides
from chaosbus.injectors.http.log_record import LoggedRequest
from chaosbus.local.ports import free_port
from chaosbus.report.model import RunReport
from chaosbus.runner import Progress, RunOptions, run_experiment
from chaosbus.scenarios import load_experiment_or_scenario
from chaosbus.streams.http import read_request_log
from chaosbus.testing import create_topics, unique_topic
from chaosbus_demo import nodered
from chaosbus_demo.pricing import serving
from tests.conftest import StackAddresses

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        shutil.which("npm") is None or shutil.which("node") is None,
        reason="Node.js and npm are needed to install Node-RED",
    ),
]

PROXY_PORT = free_port()
SCHEDULE = {"warmup_s": 2, "inject_s": 8, "recover_s": 3}
ORDER_EVERY_S = 0.4


@pytest.fixture(scope="module")
def node_red(
    local_stack: StackAddresses, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[nodered.NodeRed]:
    topic = unique_topic("flaky-api-orders")
    asyncio.run(create_topics(local_stack.bootstrap, [topic], 1))
    flow_env = {
        "CHAOSBUS_PRICING_URL": f"http://127.0.0.1:{PROXY_PORT}",
        "CHAOSBUS_RETRY_DELAY_MS": "100",
        # Gaps of 500, 1000, 2000 ms: a machine's scheduling jitter (tens of ms) cannot
        # flatten their growth below the policy's 1.5.
        "CHAOSBUS_RETRY_BASE_MS": "500",
        "CHAOSBUS_RETRY_MAX_ATTEMPTS": "5",
    }
    with nodered.running(
        bootstrap=local_stack.bootstrap,
        topic=topic,
        home=tmp_path_factory.mktemp("node-red-flaky-api"),
        flow_env=flow_env,
    ) as running:
        yield running


async def order(session: aiohttp.ClientSession, url: str, event_id: str) -> int:
    body = {"event_id": event_id, "order_id": event_id, "amount": 1250, "version": 1}
    async with session.post(url, json=body) as response:
        return response.status


async def flaky_api_run(
    node_red: nodered.NodeRed, local_stack: StackAddresses, variant: str, out: Path
) -> tuple[RunReport, list[LoggedRequest]]:
    """Run flaky-api in front of the pricing API while orders go to `/priced/<variant>`."""
    tag = uuid.uuid4().hex[:8]
    started, stop_traffic = asyncio.Event(), asyncio.Event()

    def on_progress(progress: Progress) -> None:
        if progress.phase != "preflight":
            started.set()
        if progress.phase in ("recover", "settle", "abort"):
            stop_traffic.set()

    async def traffic() -> list[int]:
        await started.wait()
        timeout = aiohttp.ClientTimeout(total=120)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            calls: list[asyncio.Task[int]] = []
            while not stop_traffic.is_set():
                event_id = f"evt-{tag}-{len(calls)}"
                url = f"{node_red.url}/priced/{variant}"
                calls.append(asyncio.create_task(order(session, url, event_id)))
                # A steady trickle, not a condition to wait for.
                await asyncio.sleep(ORDER_EVERY_S)
            return list(await asyncio.gather(*calls))

    log_path = out / "flaky-api.requests.jsonl"
    async with serving() as (_, upstream):
        spec = with_overrides(
            load_experiment_or_scenario("flaky-api"),
            http_listen=f"127.0.0.1:{PROXY_PORT}",
            http_upstream=upstream,
            schedule=SCHEDULE,
        )
        # The run's own control namespace starts released (the switch fails closed).
        await operations.init(local_stack.redis_url, "test", namespace=f"chaosbus-test-{tag}")
        options = RunOptions(
            kafka=KafkaSettings(local_stack.bootstrap),
            redis_url=local_stack.redis_url,
            actor="integration-test",
            control_namespace=f"chaosbus-test-{tag}",
            on_progress=on_progress,
            request_log=log_path,
        )
        orders = asyncio.create_task(traffic())
        report = await run_experiment(spec, options)
        stop_traffic.set()
        started.set()
        statuses = await orders
    assert report.request_log == str(log_path)
    print(f"flaky-api /priced/{variant}: {report.status.upper()}: {report.reason or 'ok'}")
    for result in report.hypotheses:
        print(f"  [{result.phase}] {result.name}: {result.observed} ({result.threshold})")
    print(f"  orders answered: {dict(Counter(statuses))}; faults: {report.faults}")
    print(f"  metrics.retries: {report.metrics.retries}")
    return report, read_request_log(log_path)


def assert_report_matches_log(report: RunReport, entries: list[LoggedRequest]) -> None:
    """The report's HTTP fault counts are exactly the request log's decisions."""
    logged = Counter(f"http.{e.fault}" for e in entries)
    http_counts = {k: v for k, v in report.faults.items() if k.startswith("http.") and v}
    assert http_counts == dict(logged)
    (described,) = report.http_routes
    assert described.startswith(f"pricing: 127.0.0.1:{PROXY_PORT} -> http://127.0.0.1:")
    # Which requests fail is the seed's and the arrival order's; that both faults occur over
    # some twenty orders failing 85% of calls is not left to chance.
    assert logged["http.error"]
    assert logged["http.reset"]


class TestFlakyApi:
    async def test_backoff_flow_holds(
        self, node_red: nodered.NodeRed, local_stack: StackAddresses, tmp_path: Path
    ) -> None:
        """Bounded exponential backoff: at most five attempts, growing gaps: HELD."""
        report, entries = await flaky_api_run(node_red, local_stack, "backoff", tmp_path)
        assert report.status == "held", report.reason
        assert report.anomalies.total == 0
        assert report.metrics.retries["max_attempts"] <= 5.0
        assert report.metrics.retries["backoff_ratio"] >= 1.5
        assert_report_matches_log(report, entries)

    async def test_naive_flow_is_violated(
        self, node_red: nodered.NodeRed, local_stack: StackAddresses, tmp_path: Path
    ) -> None:
        """A fixed delay and no bound: VIOLATED with unbounded_retries and no_backoff."""
        report, entries = await flaky_api_run(node_red, local_stack, "naive", tmp_path)
        assert report.status == "violated"
        assert report.anomalies.counts["unbounded_retries"] >= 1
        assert report.anomalies.counts["no_backoff"] >= 1
        assert "retry anomalies: unbounded_retries" in (report.reason or "")
        assert {"unbounded_retries", "no_backoff"} <= report.anomalies.examples.keys()
        assert_report_matches_log(report, entries)
