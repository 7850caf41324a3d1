"""The kill switch on a plain proxy: injection stops within a second, forwarding never does."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import pytest

from chaosbus.clients.connection import KafkaSettings
from chaosbus.contracts.routes import Route
from chaosbus.control import InjectionGuard, Keys, operations
from chaosbus.injectors.plan import FaultPlan
from chaosbus.injectors.spec import BlastRadius, DelayFault, FixedDelay
from chaosbus.streams.interposer import InterposerConfig
from chaosbus.streams.proxy import Proxy
from chaosbus.testing import Message, poll_until, produce, read_all, wait_for_count
from tests.integration.runner_support import ready_topics

pytestmark = pytest.mark.integration


def batch(start: int, count: int) -> list[Message]:
    return [
        Message(key=f"k{i % 5}".encode(), value=str(i).encode())
        for i in range(start, start + count)
    ]


async def held(proxy: Proxy) -> int:
    return sum(i.held for i in proxy.interposers)


async def until(predicate: Callable[[], Awaitable[bool]], timeout_s: float) -> float:
    """Wait for `predicate()` to turn true; returns the seconds it took."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    # Watching another task's state: there is no event to await.
    if not await poll_until(predicate, bool, timeout_s=timeout_s, every_s=0.02):
        raise TimeoutError
    return loop.time() - start


class TestKillSwitchOnProxy:
    async def test_kill_stops_injection_and_forwarding_continues(
        self, bootstrap: str, redis_url: str, topic_name: str
    ) -> None:
        """Held messages come out within 1 s of `kill`; later ones pass at once; unkill resumes."""
        source, destination = f"{topic_name}.src", f"{topic_name}.dst"
        await ready_topics(bootstrap, [source, destination], 2)
        route = Route(source, destination)
        plan = FaultPlan(
            [DelayFault(probability=1.0, distribution=FixedDelay(ms=120_000))], BlastRadius(), 1
        )
        config = InterposerConfig(
            kafka=KafkaSettings(bootstrap), run_id=f"kill-{topic_name}", group_id=f"g-{topic_name}"
        )
        proxy = Proxy([route], config, deciders={route: plan})
        namespace = f"chaosbus-test-{uuid.uuid4().hex[:8]}"
        await operations.init(redis_url, "test", namespace=namespace)
        stopping = asyncio.Event()
        async with InjectionGuard(redis_url, lambda: proxy.interposers, keys=Keys(namespace)):
            running = asyncio.create_task(proxy.run(stopping))
            try:
                await produce(bootstrap, source, batch(0, 40))
                await until(lambda: _at_least(proxy, 40), 20)
                await operations.kill(redis_url, "test", "drill", namespace=namespace)
                took = await until(lambda: _none_held(proxy), 2)
                assert took < 1.0
                assert await wait_for_count(bootstrap, destination, 40, timeout_s=5) == 40
                await produce(bootstrap, source, batch(40, 20))
                assert await wait_for_count(bootstrap, destination, 60, timeout_s=5) == 60
                await operations.unkill(redis_url, "test", namespace=namespace)
                await until(lambda: _injecting(plan), 2)
                await produce(bootstrap, source, batch(60, 5))
                await until(lambda: _at_least_held(proxy, 5), 5)
            finally:
                stopping.set()
                await running
        # Stopping the proxy released the last five too.
        values = sorted(int(r.value or b"0") for r in await read_all(bootstrap, destination))
        assert values == list(range(65))


async def _at_least(proxy: Proxy, count: int) -> bool:
    return sum(i.counts["delay"] for i in proxy.interposers) >= count


async def _none_held(proxy: Proxy) -> bool:
    return await held(proxy) == 0


async def _at_least_held(proxy: Proxy, count: int) -> bool:
    return await held(proxy) >= count


async def _injecting(plan: FaultPlan) -> bool:
    return plan.enabled
