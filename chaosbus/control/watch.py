"""The kill-switch watcher: every running proxy and runner honours the switch within 1 s.

The watcher reads the switch key every `poll_s` and also listens on the control channel,
so a `kill` is usually seen within milliseconds and at worst within one poll. Any Redis
error counts as `unreachable`, which a host must treat like a kill (fail safe: stop
injecting, keep forwarding); the watcher keeps retrying and reports when it is back.

It fails closed (docs/decisions/0050): a value it cannot read is a kill; an unexpected
error inside it is a kill (and it keeps watching); and should its task end anyway, the host
is told `killed` and `allows_injection` turns false for good.

With `on_paused`, it watches the scoped switches (`control.scopes`) in the same loop: the
pauses are read with the switch, and whenever the switch cannot be read (unreachable, an
error, a dead watcher) every scope counts as paused (docs/decisions/0252).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Literal

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from chaosbus.clients.redaction import redact_text
from chaosbus.clients.redis_client import describe_failure
from chaosbus.control.keys import DEFAULT_KEYS, Keys
from chaosbus.control.plane import connect, read_switch
from chaosbus.control.scopes import Paused, pause_everything, read_paused

log = logging.getLogger(__name__)

ControlState = Literal["clear", "killed", "unreachable"]
OnChange = Callable[[ControlState, str], Awaitable[None]]
OnPaused = Callable[[Paused], Awaitable[None]]


class KillSwitchWatcher:
    """`async with KillSwitchWatcher(url, on_change):` — `on_change` runs on every change."""

    def __init__(
        self,
        url: str,
        on_change: OnChange,
        *,
        keys: Keys = DEFAULT_KEYS,
        poll_s: float = 0.25,
        on_paused: OnPaused | None = None,
    ) -> None:
        self.url = url
        self.keys = keys
        self.poll_s = poll_s
        self.state: ControlState | None = None
        self.detail = ""
        self._on_change = on_change
        self._on_paused = on_paused
        self.paused: Paused | None = None
        self._task: asyncio.Task[None] | None = None
        self._client: aioredis.Redis | None = None
        self._first = asyncio.Event()
        self._closing = False
        self._notify: asyncio.Future[None] | None = None

    async def __aenter__(self) -> KillSwitchWatcher:
        self._client = connect(self.url)
        self._task = asyncio.create_task(self._watch(), name="chaosbus-kill-watcher")
        self._task.add_done_callback(self._died)
        # The host knows the state before it starts injecting, even if the task ended.
        first = asyncio.create_task(self._first.wait())
        await asyncio.wait({first, self._task}, return_when=asyncio.FIRST_COMPLETED)
        first.cancel()
        return self

    @property
    def allows_injection(self) -> bool:
        """True only while the task runs and the switch reads released: a dead watcher,
        like an engaged switch or an unreachable Redis, means no faults."""
        alive = self._task is not None and not self._task.done()
        return alive and self.state == "clear"

    def _died(self, task: asyncio.Task[None]) -> None:
        if self._closing:
            return
        why = "cancelled" if task.cancelled() else repr(task.exception())
        log.error("kill-switch watcher stopped (%s): injection stops", why)
        self.state, self.detail = "killed", f"kill-switch watcher stopped ({why})"
        self._first.set()
        self._notify = asyncio.ensure_future(self._tell_died(self.detail))

    async def _tell_died(self, detail: str) -> None:
        await self._on_change("killed", detail)
        await self._set_paused(pause_everything(detail))

    async def __aexit__(self, *_: object) -> None:
        self._closing = True
        if self._task is not None:
            # The client library can turn a cancellation that lands mid-read into a timeout,
            # which the loop treats as "unreachable" and survives: cancel until it ends.
            while not self._task.done():
                self._task.cancel()
                await asyncio.wait({self._task}, timeout=0.5)
        if self._notify is not None:
            with contextlib.suppress(Exception):
                await self._notify
        if self._client is not None:
            await self._client.aclose()

    async def _watch(self) -> None:
        assert self._client is not None
        pubsub: aioredis.client.PubSub | None = None
        try:
            while not self._closing:
                try:
                    if pubsub is None:
                        pubsub = self._client.pubsub()
                        await pubsub.subscribe(self.keys.channel)
                    switch = await read_switch(self._client, self.keys)
                    paused = await read_paused(self._client, self.keys) if self._on_paused else None
                    # Pauses first: the host knows them too once the first state is known.
                    if paused is not None:
                        await self._set_paused(paused)
                    await self._set("killed" if switch.engaged else "clear", switch.detail)
                    # Returns early when a kill/unkill is announced; the key is re-read at once.
                    await pubsub.get_message(ignore_subscribe_messages=True, timeout=self.poll_s)
                except (RedisError, OSError) as exc:
                    await _close(pubsub)
                    pubsub = None
                    # The line names the cause (a refused password, no answer), never a secret.
                    detail = f"control plane unreachable: {describe_failure(self.url, exc)}"
                    await self._set_paused(pause_everything(detail))
                    await self._set("unreachable", detail)
                    await asyncio.sleep(self.poll_s)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    # Whatever went wrong, it must not leave faults running: treat it as a kill.
                    await _close(pubsub)
                    pubsub = None
                    detail = f"kill switch unreadable ({redact_text(repr(exc))})"
                    await self._set_paused(pause_everything(detail))
                    await self._set("killed", detail)
                    await asyncio.sleep(self.poll_s)
        finally:
            await _close(pubsub)

    async def _set(self, state: ControlState, detail: str) -> None:
        changed = state != self.state
        self.state, self.detail = state, detail
        if changed:
            log.info(
                "control plane: %s (%s)",
                state,
                detail,
                extra={"action": "kill", "state": state, "detail": detail},
            )
            await self._on_change(state, detail)
        self._first.set()

    async def _set_paused(self, paused: Paused) -> None:
        previous = self.paused
        if self._on_paused is None or (
            previous is not None
            and (previous.fields, previous.everything) == (paused.fields, paused.everything)
        ):
            return
        self.paused = paused
        log.info(
            "control plane: %s",
            paused.describe(),
            extra={
                "action": "pause",
                "paused": sorted(paused.fields),
                "everything": paused.everything,
            },
        )
        await self._on_paused(paused)


async def _close(pubsub: aioredis.client.PubSub | None) -> None:
    if pubsub is not None:
        with contextlib.suppress(RedisError, OSError):
            await pubsub.aclose()  # type: ignore[no-untyped-call,unused-ignore]  # typed in newer redis-py
