"""Webhooks against a real local HTTP server: the body, bounded retries, and a slow hook that
never holds up its caller."""

from __future__ import annotations

import base64
import json
import logging
import threading
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from pydantic import ValidationError

from chaosbus.errors import InvalidInput
from chaosbus.experiment.governance import Webhook
from chaosbus.runner.notify import (
    ENV,
    Notifier,
    hooks_from_environment,
    link_local_reason,
)
from tests.local_http import QuietHandler, serving


class Hook:
    """A local webhook receiver: fails the first `failures` POSTs, or blocks until released."""

    def __init__(self, failures: int = 0, block: bool = False) -> None:
        self.bodies: list[dict[str, object]] = []
        self.attempts = 0
        self.failures = failures
        self.release = threading.Event()
        if not block:
            self.release.set()
        self.authorizations: list[str | None] = []
        self.redirect_to: str | None = None
        hook = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                hook.attempts += 1
                hook.authorizations.append(self.headers.get("Authorization"))
                if hook.redirect_to is not None:
                    self.send_response(307)
                    self.send_header("Location", hook.redirect_to)
                    self.end_headers()
                    return
                length = int(self.headers["Content-Length"])
                body = json.loads(self.rfile.read(length))
                hook.release.wait(10)
                if hook.attempts <= hook.failures:
                    self.send_response(500)
                else:
                    hook.bodies.append(body)
                    self.send_response(204)
                self.end_headers()

        self._server = ExitStack()
        self.url = f"{self._server.enter_context(serving(Handler))}/hook"

    def close(self) -> None:
        self.release.set()
        self._server.close()


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


class TestBounds:
    """Issue 21: webhook credentials never logged, targets only where the owner allows."""

    async def test_credentials_go_in_a_header_and_never_in_a_line(
        self, hook: Hook, caplog: pytest.LogCaptureFixture
    ) -> None:
        """`http://user:pw@host/…` is sent with Basic auth (urllib would take the userinfo
        for part of the host); what the notifier keeps and logs has the password masked."""
        url = hook.url.replace("http://", "http://hooker:Pw%2Fs3cret@")
        notifier = Notifier([Webhook(url=url)], "e", "r")
        notifier.notify("start")
        await notifier.aclose()
        assert hook.authorizations == ["Basic " + base64.b64encode(b"hooker:Pw/s3cret").decode()]
        assert notifier.delivered == [(hook.url.replace("http://", "http://hooker:***@"), "start")]
        hook.failures = 99
        with caplog.at_level(logging.INFO, logger="chaosbus.runner.notify"):
            failing = Notifier([Webhook(url=url)], "e", "r", backoff_s=0.01)
            failing.notify("kill")
            await failing.aclose()
        assert caplog.records
        assert "s3cret" not in caplog.text
        assert "hooker:***@" in caplog.text

    async def test_a_redirect_is_not_followed(self, hook: Hook) -> None:
        """A hook answering 307 to the metadata address is not followed there."""
        hook.redirect_to = "http://169.254.169.254/latest/meta-data/"
        notifier = Notifier([Webhook(url=hook.url)], "e", "r", attempts=1)
        notifier.notify("start")
        await notifier.aclose()
        assert hook.attempts == 1
        assert notifier.failed == [(hook.url, "start")]

    @pytest.mark.parametrize(
        "url",
        [
            "http://169.254.169.254/latest/meta-data/",
            "http://169.254.0.1:8080/h",
            "http://[fe80::1]/h",
            "http://[::ffff:169.254.169.254]/h",
            "http://metadata.google.internal/computeMetadata/v1/",
        ],
    )
    def test_link_local_targets_refused_unless_allowed(self, url: str) -> None:
        """The metadata addresses are refused in the file, unless the hook allows them."""
        with pytest.raises(ValidationError, match="allow_link_local"):
            Webhook(url=url)
        assert Webhook(url=url, allow_link_local=True).allow_link_local

    async def test_a_name_that_resolves_to_link_local_is_refused_when_posting(self) -> None:
        """A literal address is judged by the spec; a name by where it resolves, before
        anything is sent (169.254.169.254 written as one number resolves there)."""
        hook = Webhook(url="http://2852039166/latest/meta-data/")
        assert link_local_reason(hook) == "2852039166 resolves to link-local 169.254.169.254"
        assert link_local_reason(Webhook(url=hook.url, allow_link_local=True)) is None
        assert link_local_reason(Webhook(url="http://127.0.0.1:9/h")) is None
        notifier = Notifier([hook], "e", "r")
        notifier.notify("start")
        await notifier.aclose()
        assert notifier.failed == [(hook.url, "start")]

    def test_an_environment_url_that_does_not_parse_is_not_echoed(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """CHAOSBUS_NOTIFY_URL with a password holding `/`: one line naming its position."""
        monkeypatch.setenv(ENV, "http://127.0.0.1:9/ok,http://u:Pw/s3cret@h/x")
        with pytest.raises(InvalidInput, match="URL 2 of 2: does not parse") as caught:
            hooks_from_environment()
        assert "s3cret" not in str(caught.value)
