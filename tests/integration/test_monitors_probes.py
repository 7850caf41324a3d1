"""The monitors' readers and Redis probe against the real local stack."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from chaosbus.testing import Message, create_topics, produce
from monitors import ExtractorConfig, compile_extractors
from monitors.probes.kafka_reader import EffectsConfig, read_effects, read_ledger, read_source
from monitors.probes.redis_probe import RedisProbe, RedisProbeConfig
from monitors.testing import HistoryBuilder, ledger_record
from streams.connection import KafkaSettings

pytestmark = pytest.mark.integration


class TestRedisProbe:
    async def test_reads_hash_fields_strings_and_tombstones(
        self, redis_url: str, topic_name: str
    ) -> None:
        """Hash field and string values become numbers; missing keys and tombstones are absent."""
        prefix = topic_name
        client = aioredis.Redis.from_url(redis_url)
        try:
            await client.hset(f"{prefix}:a", mapping={"version": "4"})
            await client.hset(f"{prefix}:b", mapping={"version": "2", "deleted": "1"})
            await client.set(f"{prefix}:total:a", "12.5")
        finally:
            await client.aclose()
        hashes = RedisProbeConfig(
            key=prefix + ":{entity}", field="version", deleted_field="deleted"
        )
        async with RedisProbe(redis_url, hashes) as probe:
            seen = await probe.observe(["a", "b", "nope"], now_ms=9)
        assert [(o.entity, o.value) for o in seen] == [("a", 4), ("b", None), ("nope", None)]
        strings = RedisProbeConfig(key=prefix + ":total:{entity}")
        async with RedisProbe(redis_url, strings) as probe:
            assert [o.value for o in await probe.observe(["a"], now_ms=9)] == [12.5]


class TestKafkaReaders:
    async def test_source_ledger_and_effects_read_to_their_end(
        self, bootstrap: str, topic_name: str
    ) -> None:
        """Each reader returns what the topic held when it started, parsed and filtered."""
        source, ledger, effects = (f"{topic_name}.{s}" for s in ("src", "ledger", "fx"))
        await create_topics(bootstrap, [source, ledger, effects], partitions=2)
        await produce(
            bootstrap,
            source,
            [
                Message(b"k1", b'{"id": "e1", "v": 1}', partition=0),
                Message(b"k2", b"not json", partition=1),
            ],
        )
        h = HistoryBuilder(topic=source)
        ours = ledger_record(h.event("k1", 1), run_id="run-1")
        theirs = ledger_record(h.event("k1", 2), run_id="run-2")
        await produce(
            bootstrap,
            ledger,
            [
                Message(b"k1", ours.to_bytes()),
                Message(b"k1", theirs.to_bytes()),
                Message(b"k1", b"garbage"),
            ],
        )
        await produce(
            bootstrap, effects, [Message(b"k1", b'{"event": "e1"}'), Message(b"k1", b"{}")]
        )

        envelopes = await read_source(KafkaSettings(bootstrap), source)
        extract = compile_extractors(
            ExtractorConfig.model_validate(
                {"event_id": {"json": "$.id"}, "version": {"json": "$.v"}}
            )
        )
        events = [e for e in map(extract, envelopes) if e is not None]
        assert [(e.event_id, e.entity, e.version) for e in events] == [("e1", "k1", 1)]
        assert extract.unparsable == {"payload": 1}

        records, unreadable = await read_ledger(KafkaSettings(bootstrap), "run-1", topic=ledger)
        assert (records, unreadable) == ([ours], 1)

        config = EffectsConfig(topic=effects, event_id={"json": "$.event"}, entity="record_key")
        found, unparsable = await read_effects(KafkaSettings(bootstrap), config)
        assert [(f.event_id, f.entity) for f in found] == [("e1", "k1")]
        assert unparsable == {"event_id": 1}
