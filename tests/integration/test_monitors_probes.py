"""The monitors' readers, Redis and SQL probes against the real local stack."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
import redis.asyncio as aioredis

from chaosbus.clients.connection import KafkaSettings
from chaosbus.monitors import ExtractorConfig, compile_extractors
from chaosbus.monitors.errors import ProbeError
from chaosbus.monitors.probes.kafka_reader import (
    EffectsConfig,
    read_effects,
    read_ledger,
    read_source,
)
from chaosbus.monitors.probes.redis_probe import RedisProbe, RedisProbeConfig
from chaosbus.monitors.probes.sql_probe import SqlProbe, SqlProbeConfig
from chaosbus.monitors.testing import HistoryBuilder, ledger_record
from chaosbus.testing import Message, create_topics, produce
from tests.postgres_reader import reader_dsn

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


class TestSqlProbe:
    @pytest.fixture
    async def table(self, postgres_dsn: str, topic_name: str) -> str:
        """A table of rows per entity and one of effects, in a schema of this test's own."""
        schema = topic_name.replace("-", "_").lower()
        async with await psycopg.AsyncConnection.connect(postgres_dsn, autocommit=True) as conn:
            await conn.execute(f"create schema {schema}")
            await conn.execute(
                f"create table {schema}.orders (id text primary key, version numeric, "
                "deleted boolean not null default false)"
            )
            await conn.execute(
                f"insert into {schema}.orders values ('a', 4, false), ('b', 2, true), "
                "('c', null, false), ('d', 7.5, false)"
            )
            await conn.execute(f"create table {schema}.effects (event_id text)")
            await conn.execute(f"insert into {schema}.effects values ('e1'), ('e2'), ('e1')")
        return schema

    @pytest.fixture
    def reader(self, postgres_dsn: str) -> str:
        """The SELECT-only role the probe reads as (a role that may write is refused)."""
        return reader_dsn(postgres_dsn)

    async def test_reads_a_row_per_entity_with_tombstones(self, reader: str, table: str) -> None:
        """First column is the number; no row, a null or a set deleted column is absent."""
        config = SqlProbeConfig(
            dsn=reader,
            query=f"select version, deleted from {table}.orders where id = %(entity)s",
            deleted_column="deleted",
        )
        async with SqlProbe(config) as probe:
            seen = await probe.observe(["a", "b", "c", "d", "missing", "x' or '1'='1"], 7)
        assert [(o.entity, o.value) for o in seen] == [
            ("a", 4),
            ("b", None),
            ("c", None),
            ("d", 7.5),
            ("missing", None),
            ("x' or '1'='1", None),  # bound, never pasted into the SQL
        ]

    async def test_reads_running_at_once_share_the_connection(
        self, reader: str, table: str
    ) -> None:
        """The runner's poller and a final look may read at once: both get their rows."""
        config = SqlProbeConfig(
            dsn=reader, query=f"select version from {table}.orders where id = %(entity)s"
        )
        async with SqlProbe(config) as probe:
            reads = await asyncio.gather(*(probe.observe(["a", "d"], i) for i in range(8)))
        assert [[(o.entity, o.value) for o in seen] for seen in reads] == [
            [("a", 4), ("d", 7.5)]
        ] * 8

    async def test_a_query_without_the_entity_lists_effects(self, reader: str, table: str) -> None:
        """One effect per row; an id in two rows is two effects."""
        config = SqlProbeConfig(dsn=reader, query=f"select event_id from {table}.effects")
        assert config.reads_effects
        async with SqlProbe(config) as probe:
            effects = await probe.effects(9)
        assert [(e.event_id, e.observed_at_ms) for e in effects] == [
            ("e1", 9),
            ("e2", 9),
            ("e1", 9),
        ]

    async def test_the_session_is_read_only(self, postgres_dsn: str, table: str) -> None:
        """Past the one-SELECT rule (a config built without validation) and with a role
        that may write (allowed), a query that writes still fails: the session is read-only,
        and the rows are untouched."""
        config = SqlProbeConfig.model_construct(
            dsn=postgres_dsn,
            query=f"delete from {table}.effects returning event_id",
            allow_writable_role=True,
        )
        async with SqlProbe(config) as probe:
            with pytest.raises(ProbeError, match="read-only"):
                await probe.effects(1)
        async with await psycopg.AsyncConnection.connect(postgres_dsn) as conn:
            cursor = await conn.execute(f"select count(*) from {table}.effects")
            assert await cursor.fetchone() == (3,)

    async def test_an_unreachable_database_is_one_line(self) -> None:
        """No server on the port: ProbeError naming PostgreSQL, not a driver traceback."""
        config = SqlProbeConfig(
            dsn="postgresql://nobody@127.0.0.1:1/none", query="select 1", timeout_s=1
        )
        with pytest.raises(ProbeError, match="PostgreSQL did not answer"):
            async with SqlProbe(config):
                pass
