"""Stopping a consumer when aiokafka's stop() raises its own task's cancellation, and telling
a cancellation of the caller from one the client raised itself."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import AIOKafkaConsumer

from chaosbus.clients.consumers import KafkaConsumer, cancelled_by_caller


@pytest.fixture
def stop_raises(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """aiokafka's stop() ending with its fetch task's CancelledError; what was closed."""
    closed: list[str] = []

    async def stop(self: AIOKafkaConsumer) -> None:
        raise asyncio.CancelledError

    async def close(self: object) -> None:
        closed.append("client")

    monkeypatch.setattr(AIOKafkaConsumer, "stop", stop)
    monkeypatch.setattr("aiokafka.client.AIOKafkaClient.close", close)
    return closed


class TestStop:
    async def test_a_stray_cancellation_from_stop_is_absorbed(self, stop_raises: list[str]) -> None:
        """aiokafka's own task cancellation out of stop() does not end the caller; the
        connections are closed anyway."""
        consumer = KafkaConsumer(bootstrap_servers="127.0.0.1:9")
        await consumer.stop()
        assert stop_raises == ["client"]

    async def test_the_callers_cancellation_still_propagates(self, stop_raises: list[str]) -> None:
        """A caller that is itself being cancelled is not kept alive by the workaround."""
        consumer = KafkaConsumer(bootstrap_servers="127.0.0.1:9")

        async def stop_while_cancelled() -> None:
            current = asyncio.current_task()
            assert current is not None
            current.cancel()  # a cancellation of the caller, pending when stop() raises
            await consumer.stop()

        with pytest.raises(asyncio.CancelledError):
            await asyncio.create_task(stop_while_cancelled())
        assert stop_raises == []

    async def test_every_consumer_chaosbus_builds_is_one(self) -> None:
        """The route's group consumer and the readers' consumer carry the guarded stop."""
        from chaosbus.clients.connection import KafkaSettings
        from chaosbus.runner.readers import _reading_consumer
        from chaosbus.streams.clients import group_consumer
        from chaosbus.streams.config import InterposerConfig

        config = InterposerConfig(kafka=KafkaSettings("127.0.0.1:9"), run_id="r", group_id="g")
        assert isinstance(group_consumer(config), KafkaConsumer)
        assert isinstance(_reading_consumer(KafkaSettings("127.0.0.1:9")), KafkaConsumer)


class TestCancelledByCaller:
    async def test_a_cancelled_future_of_the_client_is_not_the_caller_s(self) -> None:
        """Awaiting a future the client cancelled raises CancelledError in a task nobody
        cancelled: `cancelled_by_caller` says False."""
        foreign: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        foreign.cancel()

        async def awaits_it() -> bool:
            try:
                await foreign
            except asyncio.CancelledError:
                return cancelled_by_caller()
            return True

        assert await asyncio.create_task(awaits_it()) is False

    async def test_the_task_s_own_cancellation_is_the_caller_s(self) -> None:
        """A task cancelled from outside sees `cancelled_by_caller` True."""
        started = asyncio.Event()

        async def waits() -> bool:
            started.set()
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                return cancelled_by_caller()
            return False

        task = asyncio.create_task(waits())
        await started.wait()
        task.cancel()
        assert await task is True
