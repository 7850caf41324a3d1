"""Topics compressed by a non-Python producer (kcat, librdkafka) with each codec: the proxy
forwards them byte-identical, and the monitors' readers read them."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess

import pytest

from chaosbus.clients.connection import KafkaSettings
from chaosbus.contracts.routes import Route
from chaosbus.injectors.envelope import Envelope
from chaosbus.monitors.probes.kafka_reader import read_source
from chaosbus.runner.readers import TopicReader
from chaosbus.streams.interposer import InterposerConfig
from chaosbus.streams.proxy import Proxy
from chaosbus.testing import create_topics, read_all, wait_for_count

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("kcat") is None, reason="needs kcat (Debian package kcat)"),
]

MESSAGES = 400
HEADERS = (("trace", "t-42"), ("origin", "automação"))
Triple = tuple[bytes | None, bytes | None, tuple[tuple[str, bytes], ...]]


def lines() -> list[tuple[str, str]]:
    # Repetitive JSON, as automation payloads are: every codec has something to compress.
    return [
        (f"k{i % 17}", json.dumps({"seq": i, "note": "élan: ✓ " * 8}, ensure_ascii=False))
        for i in range(MESSAGES)
    ]


def expected() -> list[Triple]:
    headers = tuple((name, value.encode()) for name, value in HEADERS)
    return [(key.encode(), value.encode(), headers) for key, value in lines()]


def kcat_produce(bootstrap: str, topic: str, codec: str) -> list[str]:
    """Produce every line with kcat; returns the codec librdkafka reports per batch sent."""
    header_args = [arg for name, value in HEADERS for arg in ("-H", f"{name}={value}")]
    result = subprocess.run(
        ["kcat", "-P", "-b", bootstrap, "-t", topic, "-z", codec, "-K:", *header_args, "-d", "msg"],
        input="".join(f"{key}:{value}\n" for key, value in lines()).encode(),
        capture_output=True,
        timeout=60,
        check=True,
    )
    return re.findall(
        r"Produce MessageSet with \d+ message\(s\) \(.*, (\w+)\)", result.stderr.decode()
    )


def triples(envelopes: list[Envelope]) -> list[Triple]:
    return sorted((e.key, e.value, tuple(e.headers)) for e in envelopes)  # type: ignore[arg-type]


@pytest.mark.parametrize("codec", ["gzip", "snappy", "lz4", "zstd"])
class TestCompressedSource:
    async def test_proxy_forwards_byte_identical(
        self, codec: str, bootstrap: str, topic_name: str
    ) -> None:
        """Keys, values and headers on the destination are the bytes kcat compressed."""
        source, destination = f"{topic_name}.src", f"{topic_name}.dst"
        await create_topics(bootstrap, [source], 2)
        batches = await asyncio.to_thread(kcat_produce, bootstrap, source, codec)
        # librdkafka's own account of each batch it sent: compressed with the codec asked.
        assert len(batches) >= 1
        assert set(batches) == {codec}
        config = InterposerConfig(
            kafka=KafkaSettings(bootstrap),
            run_id=codec,
            group_id=f"g-{topic_name}",
            ledger_enabled=False,
        )
        stopping = asyncio.Event()
        proxy = Proxy([Route(source, destination)], config, create_topics=True)
        task = asyncio.create_task(proxy.run(stopping))
        assert await wait_for_count(bootstrap, destination, MESSAGES, timeout_s=60) == MESSAGES
        stopping.set()
        await task
        out = await read_all(bootstrap, destination)
        assert sorted((r.key, r.value, tuple(r.headers)) for r in out) == sorted(expected())
        # Per partition, in source order: the interposer keeps partitions and order.
        src = await read_all(bootstrap, source)
        for partition in (0, 1):
            assert [r.value for r in out if r.partition == partition] == [
                r.value for r in src if r.partition == partition
            ]

    async def test_monitor_readers_read_it(
        self, codec: str, bootstrap: str, topic_name: str
    ) -> None:
        """The batch reader (monitors) and the live reader (runner) decode every record."""
        source = f"{topic_name}.src"
        await create_topics(bootstrap, [source], 2)
        await asyncio.to_thread(kcat_produce, bootstrap, source, codec)
        assert triples(await read_source(KafkaSettings(bootstrap), source)) == sorted(expected())

        live: list[Envelope] = []
        complete = asyncio.Event()

        def handle(envelope: Envelope) -> None:
            live.append(envelope)
            if len(live) == MESSAGES:
                complete.set()

        async with TopicReader(KafkaSettings(bootstrap), source, {0: 0, 1: 0}, handle):
            await asyncio.wait_for(complete.wait(), 60)
        assert triples(live) == sorted(expected())


def kcat_consume(bootstrap: str, topic: str) -> tuple[list[str], list[str]]:
    """Every `key:value` line of the topic as kcat reads it, and the codec of each batch."""
    result = subprocess.run(
        [
            *("kcat", "-C", "-b", bootstrap, "-t", topic, "-o", "beginning", "-e", "-q"),
            *("-f", "%k:%s\\n", "-d", "msg"),
        ],
        capture_output=True,
        timeout=60,
        check=True,
    )
    batch = r"Enqueue \d+ message\(s\) \(.*, (\w+)\)"
    return result.stdout.decode().splitlines(), re.findall(batch, result.stderr.decode())


@pytest.mark.parametrize("codec", ["gzip", "snappy", "lz4", "zstd"])
class TestProxyCompression:
    async def test_the_proxy_compresses_what_it_produces(
        self, codec: str, bootstrap: str, topic_name: str
    ) -> None:
        """--compression: kcat reads the destination back, every batch with that codec."""
        source, destination = f"{topic_name}.src", f"{topic_name}.dst"
        await create_topics(bootstrap, [source], 2)
        assert set(await asyncio.to_thread(kcat_produce, bootstrap, source, "none")) == {
            "uncompressed"
        }
        config = InterposerConfig(
            kafka=KafkaSettings(bootstrap),
            run_id=codec,
            group_id=f"g-{topic_name}",
            ledger_enabled=False,
            compression=codec,  # type: ignore[arg-type]
        )
        stopping = asyncio.Event()
        task = asyncio.create_task(
            Proxy([Route(source, destination)], config, create_topics=True).run(stopping)
        )
        assert await wait_for_count(bootstrap, destination, MESSAGES, timeout_s=60) == MESSAGES
        stopping.set()
        await task
        read, batches = await asyncio.to_thread(kcat_consume, bootstrap, destination)
        assert sorted(read) == sorted(f"{key}:{value}" for key, value in lines())
        assert len(batches) >= 1
        assert set(batches) == {codec}
