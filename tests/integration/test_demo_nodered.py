"""The demo's automation for real: Node-RED takes a webhook call and publishes it to Kafka.

Node-RED is installed by this module's setup (`chaosbus_demo.nodered.install`, cached under
CHAOSBUS_CACHE); the tests skip only when npm or node is absent.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

from chaosbus.testing import Received, create_topics, read_all, unique_topic, wait_for_count
from chaosbus_demo import nodered
from chaosbus_demo.events import OrderEvent
from chaosbus_demo.traffic import WebhookSink, order_events, play, post_event
from tests.conftest import StackAddresses
from tests.integration.secure_support import SecureStack

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        shutil.which("npm") is None or shutil.which("node") is None,
        reason="Node.js and npm are needed to install Node-RED",
    ),
]

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@pytest.fixture(scope="module")
def source_topic(local_stack: StackAddresses) -> str:
    topic = unique_topic("nodered-orders")
    asyncio.run(create_topics(local_stack.bootstrap, [topic], 3))
    return topic


@pytest.fixture(scope="module")
def node_red(
    local_stack: StackAddresses, source_topic: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[nodered.NodeRed]:
    with nodered.running(
        bootstrap=local_stack.bootstrap,
        topic=source_topic,
        home=tmp_path_factory.mktemp("node-red"),
    ) as running:
        yield running


def sample(order_id: str, version: int = 1) -> OrderEvent:
    return OrderEvent(
        event_id=f"evt-{order_id}-{version}",
        type="created" if version == 1 else "updated",
        order_id=order_id,
        version=version,
        customer="c-01",
        status="open",
        total=1234,
    )


async def record_at(bootstrap: str, topic: str, partition: int, offset: int) -> Received:
    assert await wait_for_count(bootstrap, topic, 1, timeout_s=30) >= 1
    found = [
        r
        for r in await read_all(bootstrap, topic)
        if (r.partition, r.offset) == (partition, offset)
    ]
    assert len(found) == 1
    return found[0]


class TestWebhook:
    async def test_a_post_lands_on_the_topic_with_key_and_headers(
        self, node_red: nodered.NodeRed, bootstrap: str, source_topic: str
    ) -> None:
        """The body becomes the value, the order id the key; event-id and traceparent follow."""
        event = sample("o-webhook-1")
        answer = post_event(node_red.webhook_url, event, traceparent=TRACEPARENT)
        assert answer.status == 202
        assert answer.body["topic"] == source_topic
        assert answer.body["event_id"] == event.event_id
        record = await record_at(
            bootstrap,
            source_topic,
            int(str(answer.body["partition"])),
            int(str(answer.body["offset"])),
        )
        assert record.key == b"o-webhook-1"
        assert json.loads(record.value or b"") == event.to_dict()
        headers = dict(record.headers)
        assert headers["event-id"] == event.event_id.encode()
        assert headers["traceparent"] == TRACEPARENT.encode()

    async def test_without_a_traceparent_none_is_invented(
        self, node_red: nodered.NodeRed, bootstrap: str, source_topic: str
    ) -> None:
        """Only the caller's trace context is forwarded."""
        answer = post_event(node_red.webhook_url, sample("o-webhook-2"))
        record = await record_at(
            bootstrap,
            source_topic,
            int(str(answer.body["partition"])),
            int(str(answer.body["offset"])),
        )
        assert [name for name, _ in record.headers] == ["event-id"]

    def test_a_body_that_is_not_an_object_is_refused(self, node_red: nodered.NodeRed) -> None:
        """A JSON array is answered 400 and never published."""
        request = urllib.request.Request(
            node_red.webhook_url,
            data=b"[1, 2]",
            headers={"content-type": "application/json"},
            method="POST",
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 400

    async def test_traffic_through_the_flow_keeps_each_orders_versions_in_order(
        self, node_red: nodered.NodeRed, bootstrap: str, source_topic: str
    ) -> None:
        """Seeded traffic posted to the webhook arrives whole, each order's versions in order."""
        events = order_events(60, seed=3, namespace="traffic-")
        report = await play(events, WebhookSink(node_red.webhook_url), rate=200)
        assert (report.sent, report.failed) == (len(events), 0)
        received = await read_all(bootstrap, source_topic)
        versions: dict[bytes | None, list[int]] = defaultdict(list)
        for record in sorted(received, key=lambda r: (r.partition, r.offset)):
            if (record.key or b"").startswith(b"traffic-"):
                versions[record.key].append(json.loads(record.value or b"")["version"])
        expected: dict[bytes | None, list[int]] = defaultdict(list)
        for e in events:
            expected[e.order_id.encode()].append(e.version)
        assert versions == expected

    def test_stop_ends_the_process(
        self, bootstrap: str, source_topic: str, tmp_path_factory: pytest.TempPathFactory
    ) -> None:
        """After stop() the webhook no longer answers and the pid file is gone."""
        home = tmp_path_factory.mktemp("node-red-stop")
        flow = nodered.start(bootstrap=bootstrap, topic=source_topic, home=home)
        assert nodered.answers(flow.health_url)
        assert flow.stop()
        assert not nodered.answers(flow.health_url)
        assert not (home / "node-red.pid").exists()
        assert not flow.stop()


class TestThroughSaslSsl:
    async def test_the_flow_publishes_through_the_secured_listener(
        self, secure_stack: SecureStack, tmp_path: Path
    ) -> None:
        """With the SASL_SSL settings, kafkajs in the flow authenticates and each post lands."""
        topic = unique_topic("nodered-secure")
        await create_topics(secure_stack.kafka, [topic], 3)
        with nodered.running(
            bootstrap=secure_stack.kafka.bootstrap,
            kafka=secure_stack.kafka,
            topic=topic,
            home=tmp_path / "node-red",
        ) as running:
            answers = [post_event(running.webhook_url, sample(f"o-sec-{i}")) for i in range(5)]
        assert [a.status for a in answers] == [202] * 5
        assert await wait_for_count(secure_stack.kafka, topic, 5, timeout_s=30) == 5
        keys = sorted(r.key for r in await read_all(secure_stack.kafka, topic))
        assert keys == [f"o-sec-{i}".encode() for i in range(5)]
