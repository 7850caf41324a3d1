"""Webhooks against a real local HTTP server: the body, bounded retries, and a slow hook that
never holds up its caller."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from chaosbus.experiment.governance import Webhook
from chaosbus.runner.notify import Notifier


class Hook:
    """A local webhook receiver: fails the first `failures` POSTs, or blocks until released."""

    def __init__(self, failures: int = 0, block: bool = False) -> None:
        self.bodies: list[dict[str, object]] = []
        self.attempts = 0
        self.failures = failures
        self.release = threading.Event()
        if not block:
            self.release.set()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                hook.attempts += 1
                length = int(self.headers["Content-Length"])
                body = json.loads(self.rfile.read(length))
                hook.release.wait(10)
                if hook.attempts <= hook.failures:
                    self.send_response(500)
                else:
                    hook.bodies.append(body)
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *_: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook() -> Iterator[Hook]:
    receiver = Hook()
    yield receiver
    receiver.close()


class TestNotifier:
    async def test_posts_the_subscribed_events(self, hook: Hook) -> None:
        """Only subscribed events are posted, with event, experiment, run id, detail, time."""
        notifier = Notifier(
            [Webhook(url=hook.url, events=("start", "verdict"))], "exp", "r1", clock=lambda: 7
        )
        notifier.notify("start")
        notifier.notify("kill", "drill")
        notifier.notify("verdict", "held: ok")
        await notifier.aclose()
        assert sorted(hook.bodies, key=lambda b: str(b["event"])) == [
            {"event": "start", "experiment": "exp", "run_id": "r1", "detail": None, "at_ms": 7},
            {
                "event": "verdict",
                "experiment": "exp",
                "run_id": "r1",
                "detail": "held: ok",
                "at_ms": 7,
            },
        ]

    async def test_retries_a_failing_hook_a_bounded_number_of_times(self) -> None:
        """Two 500s then success: three attempts; always failing: gives up after three."""
        flaky, broken = Hook(failures=2), Hook(failures=99)
        try:
            notifier = Notifier(
                [Webhook(url=flaky.url), Webhook(url=broken.url)], "e", "r", backoff_s=0.01
            )
            notifier.notify("abort", "guardrail")
            await notifier.aclose()
            assert (flaky.attempts, len(flaky.bodies)) == (3, 1)
            assert (broken.attempts, len(broken.bodies)) == (3, 0)
            assert notifier.failed == [(broken.url, "abort")]
        finally:
            flaky.close()
            broken.close()

    async def test_a_slow_hook_never_holds_up_the_caller(self) -> None:
        """`notify` returns while the hook is still blocked; `aclose` abandons it after grace."""
        slow = Hook(block=True)
        try:
            notifier = Notifier([Webhook(url=slow.url)], "e", "r", timeout_s=1, attempts=1)
            notifier.notify("kill", "drill")  # returns at once: the halt goes on
            assert slow.bodies == []
            await notifier.aclose(grace_s=0.05)
            assert notifier.delivered == []
        finally:
            slow.close()
