"""Webhooks on start, abort, kill and verdict: `notify:` in the experiment, and
`CHAOSBUS_NOTIFY_URL` (comma-separated URLs, every event) for all runs.

A notification never delays a halt: `notify()` only schedules a background task; each
POST runs in a worker thread with a timeout, retried a bounded number of times with a
doubling backoff; `aclose()` gives the pending ones a bounded grace at the end of the run
and then gives up on them. Body (JSON): event, experiment, run_id, detail, at_ms.
The stdlib's urllib does the POST: one small request needs no new dependency.

A URL's user and password go in an `Authorization: Basic` header (urllib would take them
for part of the host), and a line about a webhook shows its URL redacted. Where a POST
goes is bounded: redirects are not followed, and a host that resolves to a link-local
address (cloud metadata, 169.254.169.254) is refused unless the webhook allows it
(`allow_link_local`), so a name cannot lead where a literal address may not.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import os
import socket
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from pydantic import ValidationError

from chaosbus.clients.redaction import redact_text, redact_url
from chaosbus.contracts.clock import Clock, wall_clock_ms
from chaosbus.errors import InvalidInput
from chaosbus.experiment.governance import NotifyEvent, Webhook, is_link_local

log = logging.getLogger(__name__)

ENV = "CHAOSBUS_NOTIFY_URL"


def hooks_from_environment() -> list[Webhook]:
    """The hooks of `CHAOSBUS_NOTIFY_URL`; one that the spec would refuse is `InvalidInput`
    naming its position, never its text (pydantic's own message quotes the input)."""
    urls = [u.strip() for u in os.environ.get(ENV, "").split(",") if u.strip()]
    hooks = []
    for number, url in enumerate(urls, start=1):
        try:
            hooks.append(Webhook(url=url))
        except ValidationError as exc:
            reason = exc.errors()[0]["msg"]
            raise InvalidInput(f"{ENV}: URL {number} of {len(urls)}: {reason}") from None
    return hooks


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not a new target: the hook's owner chose one URL."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def _post(hook: Webhook, body: bytes, timeout_s: float) -> int:
    parts = urlsplit(hook.url)
    headers = {"Content-Type": "application/json"}
    url = hook.url
    if parts.username is not None or parts.password is not None:
        user, password = unquote(parts.username or ""), unquote(parts.password or "")
        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        headers["Authorization"] = f"Basic {token}"
        host = parts.netloc.rpartition("@")[2]
        url = urlunsplit(parts._replace(netloc=host))
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    # The spec admits only http(s) URLs, so the opener never reads a file: or ftp: here.
    with _OPENER.open(request, timeout=timeout_s) as response:
        return int(response.status)


def link_local_reason(hook: Webhook) -> str | None:
    """Why `hook` may not be posted to (its host is, or resolves to, a link-local address
    and the hook does not allow it), or None. Blocking: it resolves the name."""
    if hook.allow_link_local:
        return None
    parts = urlsplit(hook.url)
    host = parts.hostname or ""
    if is_link_local(host):
        return f"{host} is link-local"
    try:
        found = socket.getaddrinfo(host, parts.port or 443, proto=socket.IPPROTO_TCP)
    except OSError:
        return None  # unresolvable: the POST fails on its own, and says so
    for *_, sockaddr in found:
        if is_link_local(str(sockaddr[0])):
            return f"{host} resolves to link-local {sockaddr[0]}"
    return None


@dataclass
class Notifier:
    hooks: Sequence[Webhook]
    experiment: str
    run_id: str
    timeout_s: float = 2.0
    attempts: int = 3
    backoff_s: float = 0.5
    clock: Clock = wall_clock_ms
    # (url with its password masked, event)
    delivered: list[tuple[str, str]] = field(default_factory=list)
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
                task = asyncio.create_task(self._deliver(hook, event, body))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _deliver(self, hook: Webhook, event: str, body: bytes) -> None:
        shown = redact_url(hook.url)
        refused = await asyncio.to_thread(link_local_reason, hook)
        if refused is not None:
            log.warning("webhook %s: %s not sent: %s (allow_link_local)", shown, event, refused)
            self.failed.append((shown, event))
            return
        delay = self.backoff_s
        for attempt in range(1, self.attempts + 1):
            try:
                status = await asyncio.to_thread(_post, hook, body, self.timeout_s)
                if 200 <= status < 300:
                    self.delivered.append((shown, event))
                    return
            except (urllib.error.URLError, OSError, ValueError) as exc:
                reason = redact_text(str(exc))
                log.info("webhook %s (%s), attempt %d: %s", shown, event, attempt, reason)
            if attempt < self.attempts:
                await asyncio.sleep(delay)
                delay *= 2
        self.failed.append((shown, event))
        log.warning("webhook %s: %s not delivered after %d attempts", shown, event, self.attempts)

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
