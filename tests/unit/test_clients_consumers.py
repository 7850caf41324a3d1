"""Stopping a consumer when aiokafka's stop() raises its own task's cancellation, and telling
a cancellation of the caller from one the client raised itself."""

from __future__ import annotations

import asyncio

import pytest

from chaosbus.clients.consumers import cancelled_by_caller, stop_consumer


class _StopRaises:
    """Stands in for a consumer whose stop() ends with its fetch task's CancelledError."""

    def __init__(self) -> None:
        self._client = self
        self.closed = False

    async def stop(self) -> None:
        raise asyncio.CancelledError

    async def close(self) -> None:
        self.closed = True


class TestStopConsumer:
    async def test_a_stray_cancellation_from_stop_is_absorbed(self) -> None:
        """aiokafka's own task cancellation out of stop() does not end the caller; the
        connections are closed anyway."""
        consumer = _StopRaises()
        await stop_consumer(consumer)  # type: ignore[arg-type]
        assert consumer.closed

    async def test_the_callers_cancellation_still_propagates(self) -> None:
        """A caller that is itself being cancelled is not kept alive by the workaround."""
        consumer = _StopRaises()

        async def stop_while_cancelled() -> None:
            current = asyncio.current_task()
            assert current is not None
            current.cancel()  # a cancellation of the caller, pending when stop() raises
            await stop_consumer(consumer)  # type: ignore[arg-type]

        with pytest.raises(asyncio.CancelledError):
            await asyncio.create_task(stop_while_cancelled())
        assert not consumer.closed


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
