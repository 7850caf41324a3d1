"""A destination that refuses a message, on the real broker: never resent forever.

The destination takes at most 2,000 bytes per record batch; the source holds ten small
messages, one of 20 KB, and ten small ones, in one partition.
"""

from __future__ import annotations

import asyncio

import pytest

from chaosbus.clients.connection import KafkaSettings
from chaosbus.contracts.routes import Route
from chaosbus.streams.config import InterposerConfig
from chaosbus.streams.proxy import Proxy
from chaosbus.streams.topics import TopicAdmin
from chaosbus.testing import (
    Message,
    ledger_of,
    produce,
    read_all,
    wait_for_committed,
    wait_for_ledger,
)
from tests.integration.proxy_process import ProxyProcess

pytestmark = pytest.mark.integration

LIMIT = {"max.message.bytes": "2000"}
MODES = ("at-least-once", "exactly-once")


def small(i: int) -> Message:
    return Message(key=f"k{i % 3}".encode(), value=f"small-{i:03d}".encode() * 4)


def messages() -> list[Message]:
    large = Message(key=b"k-large", value=b"x" * 20_000, headers=(("origin", b"test"),))
    return [small(i) for i in range(10)] + [large] + [small(i) for i in range(10, 20)]


async def topics(bootstrap: str, source: str, destination: str, *extra: str) -> None:
    async with TopicAdmin(KafkaSettings(bootstrap)) as admin:
        await admin.create(source, 1)
        await admin.create(destination, 1, config=LIMIT)
        for topic in extra:
            await admin.create(topic, 1)


class TestOnUndeliverableFail:
    @pytest.mark.parametrize("delivery", MODES)
    async def test_route_stops_naming_the_offset_and_commits_right_before_it(
        self, bootstrap: str, topic_name: str, delivery: str
    ) -> None:
        """fail, in both modes: exit 2 with one line naming topic, partition, offset, reason;
        the ten before arrive; the committed offset is 10, the large message's own."""
        source, destination = f"{topic_name}.src", f"{topic_name}.dst"
        group = f"g-{topic_name}"
        await topics(bootstrap, source, destination)
        await produce(bootstrap, source, messages())

        proxy = ProxyProcess(
            "--route",
            f"{source}:{destination}",
            "--bootstrap",
            bootstrap,
            "--group",
            group,
            "--delivery",
            delivery,
        )
        await proxy.start()
        assert proxy.process is not None
        code = await asyncio.wait_for(proxy.process.wait(), 60)
        log = proxy.log.read_text(errors="replace")

        assert code == 2
        [line] = [x for x in log.splitlines() if x.startswith("chaosbus: ")]
        assert f"{source} partition 0 offset 10" in line
        assert "MESSAGE_TOO_LARGE" in line
        assert "Traceback" not in log
        forwarded = await read_all(bootstrap, destination)
        assert [r.value for r in forwarded] == [small(i).value for i in range(10)]
        expected = {(source, 0): 10}
        assert await wait_for_committed(bootstrap, group, expected, timeout_s=10) == expected


class TestOnUndeliverableDeadLetter:
    @pytest.mark.parametrize("delivery", MODES)
    async def test_the_large_one_goes_to_the_dead_letter_topic_with_why(
        self, bootstrap: str, topic_name: str, delivery: str
    ) -> None:
        """dead_letter, in both modes: all twenty small ones arrive in order, the large one
        lands in the DLQ with reason headers, the ledger records it as undeliverable, the
        report counts it."""
        source, destination = f"{topic_name}.src", f"{topic_name}.dst"
        dead, ledger = f"{topic_name}.dlq", f"{topic_name}.ledger"
        await topics(bootstrap, source, destination, dead)
        await produce(bootstrap, source, messages())

        route = Route(source, destination, dead_letter=dead)
        config = InterposerConfig(
            kafka=KafkaSettings(bootstrap),
            run_id="dlq",
            group_id=f"g-{topic_name}",
            ledger_topic=ledger,
        )
        stopping = asyncio.Event()
        proxy = Proxy([route], config, delivery=delivery)  # type: ignore[arg-type]
        task = asyncio.create_task(proxy.run(stopping))
        assert await wait_for_ledger(bootstrap, ledger, 21, timeout_s=60) == 21
        stopping.set()
        report = await task

        forwarded = await read_all(bootstrap, destination)
        assert [r.value for r in forwarded] == [small(i).value for i in range(20)]
        [letter] = await read_all(bootstrap, dead)
        assert (letter.key, letter.value) == (b"k-large", b"x" * 20_000)
        headers = dict(letter.headers)
        assert headers["origin"] == b"test"
        assert headers["chaosbus.source.offset"] == b"10"
        assert headers["chaosbus.source.topic"] == source.encode()
        assert headers["chaosbus.undeliverable.destination"] == destination.encode()
        assert (headers["chaosbus.undeliverable.reason"] or b"").startswith(b"MESSAGE_TOO_LARGE")
        records = ledger_of(await read_all(bootstrap, ledger))
        faults = {r.offset: r.fault for r in records}
        assert faults[10] == "undeliverable"
        assert sorted(faults) == list(range(21))
        assert [o for o, f in faults.items() if f != "pass"] == [10]
        assert (report.counts["undeliverable"], report.counts["pass"]) == (1, 21)
        expected = {(source, 0): 21}
        group = f"g-{topic_name}"
        assert await wait_for_committed(bootstrap, group, expected, timeout_s=10) == expected
