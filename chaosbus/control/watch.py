"""The kill-switch watcher: every running proxy and runner honours the switch within 1 s.

The watcher reads the switch key every `poll_s` and also listens on the control channel,
so a `kill` is usually seen within milliseconds and at worst within one poll. Any Redis
error counts as `unreachable`, which a host must treat like a kill (fail safe: stop
injecting, keep forwarding); the watcher keeps retrying and reports when it is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Literal

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from chaosbus.control.keys import DEFAULT_KEYS, Keys, KillState
from chaosbus.control.plane import connect
from streams.redis_client import describe_failure

log = logging.getLogger(__name__)

ControlState = Literal["clear", "killed", "unreachable"]
OnChange = Callable[[ControlState, str], Awaitable[None]]


class KillSwitchWatcher:
    """`async with KillSwitchWatcher(url, on_change):` — `on_change` runs on every change."""

    def __init__(
        self,
        url: str,
        on_change: OnChange,
        *,
        keys: Keys = DEFAULT_KEYS,
        poll_s: float = 0.25,
    ) -> None:
        self.url = url
        self.keys = keys
        self.poll_s = poll_s
        self.state: ControlState | None = None
        self.detail = ""
        self._on_change = on_change
        self._task: asyncio.Task[None] | None = None
        self._client: aioredis.Redis | None = None
        self._first = asyncio.Event()

    async def __aenter__(self) -> KillSwitchWatcher:
        self._client = connect(self.url)
        self._task = asyncio.create_task(self._watch(), name="chaosbus-kill-watcher")
        await self._first.wait()  # the host knows the state before it starts injecting
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._client is not None:
            await self._client.aclose()

    async def _watch(self) -> None:
        assert self._client is not None
        pubsub: aioredis.client.PubSub | None = None
        while True:
            try:
                if pubsub is None:
                    pubsub = self._client.pubsub()
                    await pubsub.subscribe(self.keys.channel)
                raw = await self._client.get(self.keys.kill)
                if raw is None:
                    await self._set("clear", "kill switch released")
                else:
                    await self._set("killed", KillState.model_validate_json(raw).describe())
                # Returns early when a kill/unkill is announced; the key is re-read at once.
                await pubsub.get_message(ignore_subscribe_messages=True, timeout=self.poll_s)
            except (RedisError, OSError) as exc:
                if pubsub is not None:
                    with contextlib.suppress(RedisError, OSError):
                        await pubsub.aclose()  # type: ignore[no-untyped-call]
                    pubsub = None
                # The line names the cause (a refused password, no answer), never a secret.
                detail = describe_failure(self.url, exc)
                await self._set("unreachable", f"control plane unreachable: {detail}")
                await asyncio.sleep(self.poll_s)

    async def _set(self, state: ControlState, detail: str) -> None:
        changed = state != self.state
        self.state, self.detail = state, detail
        if changed:
            log.info("control plane: %s (%s)", state, detail)
            await self._on_change(state, detail)
        self._first.set()
