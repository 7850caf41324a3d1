"""Webhooks on start, abort, kill and verdict: `notify:` in the experiment, and
`CHAOSBUS_NOTIFY_URL` (comma-separated URLs, every event) for all runs.

A notification never delays a halt: `notify()` only schedules a background task; each
POST runs in a worker thread with a timeout, retried a bounded number of times with a
doubling backoff; `aclose()` gives the pending ones a bounded grace at the end of the run
and then gives up on them. Body (JSON): event, experiment, run_id, detail, at_ms.
The stdlib's urllib does the POST: one small request needs no new dependency.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field

from chaosbus.contracts.clock import Clock, wall_clock_ms
from chaosbus.experiment.governance import NotifyEvent, Webhook

log = logging.getLogger(__name__)

ENV = "CHAOSBUS_NOTIFY_URL"


def hooks_from_environment() -> list[Webhook]:
    urls = [u.strip() for u in os.environ.get(ENV, "").split(",") if u.strip()]
    return [Webhook(url=url) for url in urls]


def _post(url: str, body: bytes, timeout_s: float) -> int:
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    # The spec admits only http(s) URLs, so urlopen never reads a file: or ftp: here.
    with urllib.request.urlopen(request, timeout=timeout_s) as response:
        return int(response.status)


@dataclass
class Notifier:
    hooks: Sequence[Webhook]
    experiment: str
    run_id: str
    timeout_s: float = 2.0
    attempts: int = 3
    backoff_s: float = 0.5
    clock: Clock = wall_clock_ms
    delivered: list[tuple[str, str]] = field(default_factory=list)  # (url, event)
    failed: list[tuple[str, str]] = field(default_factory=list)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def notify(self, event: NotifyEvent, detail: str | None = None) -> None:
        """Schedule the POSTs of `event`; returns at once."""
        body = json.dumps(
            {
                "event": event,
                "experiment": self.experiment,
                "run_id": self.run_id,
                "detail": detail,
                "at_ms": self.clock(),
            }
        ).encode("utf-8")
        for hook in self.hooks:
            if event in hook.events:
                task = asyncio.create_task(self._deliver(hook.url, event, body))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _deliver(self, url: str, event: str, body: bytes) -> None:
        delay = self.backoff_s
        for attempt in range(1, self.attempts + 1):
            try:
                status = await asyncio.to_thread(_post, url, body, self.timeout_s)
                if 200 <= status < 300:
                    self.delivered.append((url, event))
                    return
            except (urllib.error.URLError, OSError, ValueError) as exc:
                log.info("webhook %s (%s), attempt %d: %s", url, event, attempt, exc)
            if attempt < self.attempts:
                await asyncio.sleep(delay)
                delay *= 2
        self.failed.append((url, event))
        log.warning("webhook %s: %s not delivered after %d attempts", url, event, self.attempts)

    async def aclose(self, grace_s: float = 5.0) -> None:
        """Wait up to `grace_s` for pending deliveries, then abandon them."""
        pending = set(self._tasks)
        if not pending:
            return
        _, late = await asyncio.wait(pending, timeout=grace_s)
        for task in late:
            task.cancel()
        for task in late:
            with contextlib.suppress(asyncio.CancelledError):
                await task
