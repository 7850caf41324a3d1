"""What the demo runs inside its own process while experiments run: services and traffic.

Both are async context managers whose exit stops their tasks and waits for them, so an
interrupted demo leaves no consumer, no producer and no half-sent request behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from functools import partial

from redis.exceptions import RedisError

from chaosbus.clients.connection import KafkaSettings
from chaosbus.clients.consumers import standalone_consumer, topic_end_offsets
from chaosbus.errors import Unreachable
from chaosbus_demo.events import OrderEvent
from chaosbus_demo.services import LedgerService, ServiceConfig
from chaosbus_demo.traffic import TrafficReport, WebhookSink, play

CATCH_UP_TIMEOUT_S = 30.0


@dataclass
class Services:
    """The running services, by their config's key prefix, and what stopped any of them."""

    running: dict[str, LedgerService] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    async def caught_up(self, prefix: str, kafka: KafkaSettings) -> bool:
        """Wait until the service has applied everything its topic holds now.

        Each service reads its own fresh topic from the start, so the number of records it
        applied equals the sum of the topic's end offsets once it has caught up.
        """
        service = self.running[prefix]
        async with standalone_consumer(kafka) as consumer:
            ends = await topic_end_offsets(consumer, service.config.topic)
        wanted = sum(ends.values())
        return await service.wait_processed(wanted, timeout_s=CATCH_UP_TIMEOUT_S) >= wanted


@asynccontextmanager
async def services_running(configs: Sequence[ServiceConfig]) -> AsyncIterator[Services]:
    services = Services()
    stop = asyncio.Event()
    tasks: list[asyncio.Task[object]] = []
    async with AsyncExitStack() as stack:
        for config in configs:
            try:
                service = await stack.enter_async_context(LedgerService(config))
            except (RedisError, OSError) as exc:
                raise Unreachable(f"{config.name} cannot start: {exc}") from exc
            services.running[config.key_prefix] = service
            task = asyncio.create_task(service.run(stop), name=config.name)
            task.add_done_callback(partial(_note_failure, services, config))
            tasks.append(task)
        try:
            yield services
        finally:
            stop.set()
            # Each loop ends within one poll (200 ms) of `stop`; a failed one already ended.
            await asyncio.gather(*tasks, return_exceptions=True)


def _note_failure(services: Services, config: ServiceConfig, task: asyncio.Task[object]) -> None:
    if not task.cancelled() and task.exception() is not None:
        services.failures.append(f"{config.name} ({config.topic}) stopped: {task.exception()}")


@dataclass
class Traffic:
    url: str
    report: TrafficReport | None = None
    error: str | None = None


@asynccontextmanager
async def traffic_running(
    url: str, events: Iterator[OrderEvent], *, count: int, rate: float
) -> AsyncIterator[Traffic]:
    """The next `count` events of `events` posted to the webhook at a steady rate.

    `islice` takes one event at a time, so a burst that ran its course leaves the next
    event in `events`: the next burst continues every order where this one stopped. The
    block's end stops a burst that is still running.
    """
    traffic = Traffic(url)
    stop = asyncio.Event()
    task = asyncio.create_task(
        play(itertools.islice(events, count), WebhookSink(url), rate=rate, stop=stop)
    )
    try:
        yield traffic
    finally:
        stop.set()
        # `play` checks `stop` before each event; at most one request (10 s timeout) is open.
        with contextlib.suppress(Exception):
            traffic.report = await task
        if traffic.report is None and not task.cancelled():
            traffic.error = str(task.exception())
