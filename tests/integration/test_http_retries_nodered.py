"""The retry verdict on a real automation: Node-RED's priced-orders flows calling the pricing
API through `chaosbus http`. The naive flow (catch → fixed delay → retry, no bound) is caught;
the flow with bounded exponential backoff is not."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest

from chaosbus.injectors.http.log_record import LoggedRequest
from chaosbus.injectors.http.plan import HttpPlan
from chaosbus.injectors.http.spec import HttpFaultFile
from chaosbus.injectors.spec import BlastRadius
from chaosbus.local.ports import free_port
from chaosbus.monitors.retries import (
    NO_BACKOFF,
    RETRY_DUPLICATE_EFFECT,
    RETRY_STORM,
    UNBOUNDED_RETRIES,
    RetryPolicy,
    judge_retries,
)
from chaosbus.streams.http import HttpInterposer, HttpRoute, RequestLog
from chaosbus.testing import create_topics, read_all, unique_topic
from chaosbus_demo import nodered
from chaosbus_demo.pricing import PricingService, serving
from tests.conftest import StackAddresses

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        shutil.which("npm") is None or shutil.which("node") is None,
        reason="Node.js and npm are needed to install Node-RED",
    ),
]

PROXY_PORT = free_port()
POLICY = RetryPolicy(max_attempts=8, min_backoff_ratio=1.5)
ALWAYS_503 = {"type": "error", "probability": 1, "status": 503}


@pytest.fixture(scope="module")
def source_topic(local_stack: StackAddresses) -> str:
    topic = unique_topic("priced-orders")
    asyncio.run(create_topics(local_stack.bootstrap, [topic], 1))
    return topic


@pytest.fixture(scope="module")
def node_red(
    local_stack: StackAddresses, source_topic: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[nodered.NodeRed]:
    flow_env = {
        "CHAOSBUS_PRICING_URL": f"http://127.0.0.1:{PROXY_PORT}",
        "CHAOSBUS_RETRY_DELAY_MS": "100",
        # 400 ms, not less: the first retry carries ~100 ms of start-up on a loaded machine,
        # which at a 200 ms base made a doubling look like 1.36x.
        "CHAOSBUS_RETRY_BASE_MS": "400",
        "CHAOSBUS_RETRY_MAX_ATTEMPTS": "5",
    }
    with nodered.running(
        bootstrap=local_stack.bootstrap,
        topic=source_topic,
        home=tmp_path_factory.mktemp("node-red-retries"),
        flow_env=flow_env,
    ) as running:
        yield running


@asynccontextmanager
async def pricing_behind_proxy(
    fault: dict[str, Any],
) -> AsyncIterator[tuple[PricingService, HttpInterposer]]:
    faults = HttpFaultFile.model_validate({"faults": [fault]}).faults
    async with serving() as (pricing, url):
        route = HttpRoute(
            name="pricing", listen_host="127.0.0.1", listen_port=PROXY_PORT, upstream=url
        )
        with RequestLog() as log:
            async with HttpInterposer(route, HttpPlan(faults, BlastRadius(), 3), log) as proxy:
                yield pricing, proxy


async def order(node_red: nodered.NodeRed, variant: str, order_id: str, timeout_s: float) -> int:
    body = {"event_id": f"evt-{order_id}", "order_id": order_id, "amount": 1250, "version": 1}
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_s)) as session,
        session.post(f"{node_red.url}/priced/{variant}", json=body) as response,
    ):
        return response.status


def of(entries: list[LoggedRequest], order_id: str) -> list[LoggedRequest]:
    """The attempts of one order: the naive flow of an earlier test may still be retrying."""
    return [e for e in entries if e.request_id == f"evt-{order_id}"]


class TestRetryVariants:
    async def test_naive_flow_retries_without_bound_or_backoff(
        self, node_red: nodered.NodeRed
    ) -> None:
        """Against an API that always fails, the naive loop goes past any bound, flat."""
        async with pricing_behind_proxy(ALWAYS_503) as (pricing, proxy):
            waiting = asyncio.create_task(order(node_red, "naive", "o-naive-1", timeout_s=60))
            await proxy.log.wait_for(
                lambda logged: len(of(logged, "o-naive-1")) >= POLICY.max_attempts + 4, 30
            )
            waiting.cancel()
            entries = of(proxy.log.entries, "o-naive-1")
        verdict = judge_retries(entries, POLICY)
        assert verdict.counts() == {
            UNBOUNDED_RETRIES: 1,
            NO_BACKOFF: 1,
            RETRY_STORM: 0,
            RETRY_DUPLICATE_EFFECT: 0,
        }
        assert sum(pricing.calls.values()) == 0  # every call was refused before the service

    async def test_backoff_flow_gives_up_after_its_bound(self, node_red: nodered.NodeRed) -> None:
        """The bounded flow tries five times with doubling gaps, then answers 502."""
        async with pricing_behind_proxy(ALWAYS_503) as (_, proxy):
            status = await order(node_red, "backoff", "o-backoff-1", timeout_s=30)
            entries = of(proxy.log.entries, "o-backoff-1")
        assert status == 502
        verdict = judge_retries(entries, POLICY)
        assert verdict.findings == ()
        assert verdict.metrics["retries.max_attempts"] == 5.0
        assert verdict.metrics["retries.gave_up"] == 1.0
        assert verdict.metrics["retries.backoff_ratio"] >= POLICY.min_backoff_ratio

    async def test_backoff_flow_gets_through_a_flaky_api_once(
        self, node_red: nodered.NodeRed, bootstrap: str, source_topic: str
    ) -> None:
        """The first two calls for the order fail; the third succeeds; it is published once.

        The match keeps the trigger's count to this order: the naive flow of the first test
        is still retrying its own order against the same proxy port."""
        flaky = {
            "type": "error",
            "status": 503,
            "trigger": {"first": 2},
            "match": {"headers": {"idempotency-key": "evt-o-flaky-1"}},
        }
        async with pricing_behind_proxy(flaky) as (pricing, proxy):
            status = await order(node_red, "backoff", "o-flaky-1", timeout_s=30)
            entries = of(proxy.log.entries, "o-flaky-1")
        assert status == 202
        assert [e.status for e in entries] == [503, 503, 200]
        assert pricing.calls["evt-o-flaky-1"] == 1
        published = [r for r in await read_all(bootstrap, source_topic) if r.key == b"o-flaky-1"]
        assert len(published) == 1
        assert judge_retries(entries, POLICY).findings == ()
