"""The one Record→Envelope (`contracts.records.envelope_of`): every reader of a topic, the
route loop, the runner's live reader and the monitors' window read, gets the same envelopes,
sizes and poison counts from the same records (in-memory transport, no broker)."""

from __future__ import annotations

import asyncio
from collections import Counter

from aiokafka import TopicPartition

from chaosbus.clients.connection import KafkaSettings
from chaosbus.contracts.records import ENVELOPE_OVERHEAD, LARGE_VALUE_BYTES, envelope_of, event_id
from chaosbus.contracts.routes import Route
from chaosbus.injectors.envelope import Envelope, SourceCoordinates
from chaosbus.monitors.probes.kafka_reader import read_window
from chaosbus.runner.readers import TopicReader
from chaosbus.streams.at_least_once import AtLeastOnce
from chaosbus.streams.config import InterposerConfig
from chaosbus.streams.decider import PassThrough
from chaosbus.streams.delivery import RouteContext
from chaosbus.streams.interposer import RouteInterposer
from chaosbus.streams.memory import MemoryCluster, MemoryConsumer, MemoryProducer, MemoryRecord
from chaosbus.testing import poll_until

LARGE = b"x" * (LARGE_VALUE_BYTES + 1)
# (key, value, headers): a plain record, then one of each kind of poison.
RECORDS: list[tuple[bytes | None, bytes | None, tuple[tuple[str, bytes | None], ...]]] = [
    (b"k1", b"plain", (("id", b"e-1"),)),
    (b"k2", None, ()),  # tombstone
    (None, b"no key", ()),  # keyless
    (b"k4", b"null header", (("id", None),)),
    (b"k5", LARGE, ()),  # large value
]
POISON = Counter(tombstone=1, keyless=1, null_header=1, large_value=1)
# serialized sizes as the broker reports them: -1 for a null key or value.
SIZES = [2 + 5, 2 - 1, -1 + 6, 2 + 11, 2 + len(LARGE)]


def cluster() -> MemoryCluster:
    memory = MemoryCluster()
    memory.create("src", 1)
    memory.create("dst", 1, max_message_bytes=4 * LARGE_VALUE_BYTES)
    memory.create("ledger", 1)
    for key, value, headers in RECORDS:
        memory.append("src", 0, key, value, headers, timestamp=1_000)
    return memory


def expected() -> list[Envelope]:
    return [
        Envelope(key, value, headers, 1_000, SourceCoordinates("src", 0, offset))
        for offset, (key, value, headers) in enumerate(RECORDS)
    ]


def sizes(envelopes: list[Envelope]) -> list[int]:
    return [envelope.size - ENVELOPE_OVERHEAD for envelope in envelopes]


class TestEnvelopeOf:
    def test_size_and_poison_of_each_record(self) -> None:
        """Size is key + value as serialized (-1 for null) plus the overhead; each poison
        kind is counted once, a plain record not at all."""
        counts: Counter[str] = Counter()
        records = [MemoryRecord("src", 0, i, k, v, h, 1_000) for i, (k, v, h) in enumerate(RECORDS)]
        envelopes = [envelope_of(record, counts) for record in records]
        assert envelopes == expected()
        assert sizes(envelopes) == SIZES
        assert counts == POISON

    def test_without_counts_the_envelope_is_the_same(self) -> None:
        """A reader that keeps no counts gets the same envelope, size included."""
        record = MemoryRecord("src", 0, 3, b"k", b"v", (), 5)
        assert envelope_of(record).size == envelope_of(record, Counter()).size == 2 + 64

    def test_event_id_from_a_header_else_the_coordinates(self) -> None:
        """The named header's value; a null header falls back to topic:partition:offset."""
        plain, _, _, null_header, _ = expected()
        assert event_id("id", plain) == "e-1"
        assert event_id("id", null_header) == "src:0:3"
        assert event_id(None, plain) == "src:0:0"


class TestEveryReader:
    async def test_the_route_loop(self) -> None:
        """The interposer forwards all five and counts the four kinds of poison."""
        memory = cluster()
        config = InterposerConfig(
            kafka=KafkaSettings("memory"), run_id="r", group_id="g", ledger_topic="ledger"
        )
        context = RouteContext(Route("src", "dst"), config, keep_partition=True)
        delivery = AtLeastOnce(
            context, MemoryProducer(memory), producer_factory=memory.producer_factory()
        )
        loop = RouteInterposer(
            context, PassThrough(), delivery, consumer_factory=memory.consumer_factory()
        )
        stopping = asyncio.Event()
        task = asyncio.create_task(loop.run(stopping))
        done = await poll_until(
            lambda: memory.committed["g"].get(TopicPartition("src", 0)),
            lambda at: at == len(RECORDS),
            timeout_s=5,
            every_s=0.01,
        )
        stopping.set()
        await task
        assert done == len(RECORDS)
        assert Counter({k: loop.counts[k] for k in POISON}) == POISON

    async def test_the_runner_s_live_reader(self) -> None:
        """`runner.readers.TopicReader` hands envelopes with their sizes, poison counted."""
        memory = cluster()
        read: list[Envelope] = []
        reader = TopicReader(
            KafkaSettings("memory"),
            "src",
            {0: 0},
            read.append,
            consumer_factory=lambda kafka: MemoryConsumer(memory),
        )
        async with reader:
            await poll_until(lambda: len(read), lambda n: n == len(RECORDS), timeout_s=5)
        assert read == expected()
        assert sizes(read) == SIZES
        assert reader.poison == POISON

    async def test_the_monitors_window_read(self) -> None:
        """`monitors.probes.kafka_reader.read_window` returns the same envelopes and counts."""
        poison: Counter[str] = Counter()
        consumer = MemoryConsumer(cluster())
        read = await read_window(consumer, "src", timeout_s=5, poison=poison)
        assert read == expected()
        assert sizes(read) == SIZES
        assert poison == POISON
