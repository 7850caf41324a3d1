"""The passthrough interposer on the real broker: lossless, ordered per key, faithful."""

from __future__ import annotations

import asyncio
from collections import defaultdict

import pytest

from chaosbus.clients.connection import KafkaSettings
from chaosbus.contracts.ledger_record import decode_ledger
from chaosbus.contracts.routes import Route
from chaosbus.streams.interposer import InterposerConfig
from chaosbus.streams.proxy import Proxy
from chaosbus.testing import Message, Received, create_topics, produce, read_all, wait_for_count

pytestmark = pytest.mark.integration

MESSAGES = 20_000
KEYS = 100
PARTITIONS = 3


def numbered_messages(count: int, keys: int) -> list[Message]:
    return [
        Message(
            key=f"k{i % keys}".encode(),
            value=f"{i}".encode(),
            headers=(("seq", str(i).encode()), ("origin", b"test")),
            timestamp_ms=1_700_000_000_000 + i,
        )
        for i in range(count)
    ]


def values_by_key(records: list[Received]) -> dict[bytes | None, list[bytes | None]]:
    grouped: dict[bytes | None, list[bytes | None]] = defaultdict(list)
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        grouped[record.key].append(record.value)
    return grouped


class TestPassthrough:
    async def test_forwards_every_message_once_in_key_order(
        self, bootstrap: str, topic_name: str
    ) -> None:
        """20,000 messages on 3 partitions and 100 keys arrive once each, in key order, intact."""
        source, destination = f"{topic_name}.src", f"{topic_name}.dst"
        await create_topics(bootstrap, [source, destination], PARTITIONS)
        sent = numbered_messages(MESSAGES, KEYS)
        await produce(bootstrap, source, sent)

        config = InterposerConfig(
            kafka=KafkaSettings(bootstrap), run_id="passthrough", group_id=f"g-{topic_name}"
        )
        proxy = Proxy([Route(source, destination)], config)
        stopping = asyncio.Event()
        task = asyncio.create_task(proxy.run(stopping))
        assert await wait_for_count(bootstrap, destination, MESSAGES, timeout_s=120) >= MESSAGES
        stopping.set()
        report = await task

        read_back = await read_all(bootstrap, source)
        forwarded = await read_all(bootstrap, destination)
        assert len(forwarded) == MESSAGES
        assert sorted(r.value or b"" for r in forwarded) == sorted(m.value or b"" for m in sent)
        assert values_by_key(forwarded) == values_by_key(read_back)
        by_value = {r.value: r for r in read_back}
        for record in forwarded:
            original = by_value[record.value]
            assert record.headers == original.headers
            assert record.timestamp_ms == original.timestamp_ms
            # Same partition count on both sides: the partition number is kept.
            assert record.partition == original.partition
        assert report.counts["pass"] == MESSAGES

    async def test_ledger_records_every_decision(self, bootstrap: str, topic_name: str) -> None:
        """Each forwarded message has one `pass` ledger record naming where its copy landed,
        in fewer ledger messages than decisions (runs of passes are compact)."""
        source, destination = f"{topic_name}.src", f"{topic_name}.dst"
        await create_topics(bootstrap, [source, destination], 2)
        await produce(bootstrap, source, numbered_messages(500, 10))
        run_id = f"ledger-{topic_name}"
        config = InterposerConfig(
            kafka=KafkaSettings(bootstrap), run_id=run_id, group_id=f"g-{topic_name}"
        )
        stopping = asyncio.Event()
        task = asyncio.create_task(Proxy([Route(source, destination)], config).run(stopping))
        await wait_for_count(bootstrap, destination, 500, timeout_s=60)
        stopping.set()
        await task

        messages = [
            (r.key, decode_ledger(r.value or b""))
            for r in await read_all(bootstrap, config.ledger_topic)
        ]
        mine = [(key, records) for key, records in messages if records[0].run_id == run_id]
        ours = [record for _, records in mine for record in records]
        assert len(ours) == 500
        # Keyed by route and source partition; consecutive passes share a compact record.
        route = f"{source}->{destination}"
        for key, records in mine:
            assert {f"{route}/{r.partition}".encode() for r in records} == {key}
        assert len(mine) < 500
        assert {(r.partition, r.offset) for r in ours} == {
            (p, o) for p in (0, 1) for o in range(sum(1 for r in ours if r.partition == p))
        }
        forwarded = {(r.partition, r.offset): r for r in await read_all(bootstrap, destination)}
        for record in ours:
            assert record.fault == "pass"
            (emission,) = record.emissions
            assert emission.partition is not None
            assert emission.offset is not None
            assert (emission.partition, emission.offset) in forwarded
