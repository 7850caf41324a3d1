"""A probe that cannot write (issue 21, reproduction 6), on a real PostgreSQL.

Before: with a DSN whose role may write, the effects query `select …; commit; delete …`
deleted a row, `create table` created one, and `copy … to program` ran a program as the
server's user. Now each is refused when the experiment is read (PostgreSQL's own parser
says it is not one SELECT), every transaction of the session is read-only, and a role that
can write is refused at connect unless the probe allows it, loudly.
"""

from __future__ import annotations

import logging
from pathlib import Path

import psycopg
import pytest
from pydantic import ValidationError

from chaosbus.monitors.errors import ProbeError
from chaosbus.monitors.probes.sql_probe import SqlProbe, SqlProbeConfig
from tests.postgres_reader import reader_dsn

pytestmark = pytest.mark.integration


@pytest.fixture
async def orders(postgres_dsn: str, topic_name: str) -> str:
    """A schema of this test's own with `orders` (o1, o2) and `effects` (e1)."""
    schema = topic_name.replace("-", "_").lower()
    async with await psycopg.AsyncConnection.connect(postgres_dsn, autocommit=True) as conn:
        await conn.execute(f"create schema {schema}")
        await conn.execute(f"create table {schema}.orders (id text primary key)")
        await conn.execute(f"insert into {schema}.orders values ('o1'), ('o2')")
        await conn.execute(f"create table {schema}.effects (event_id text)")
        await conn.execute(f"insert into {schema}.effects values ('e1')")
    return schema


async def state(dsn: str, schema: str) -> tuple[list[str], bool]:
    """The order ids, and whether the `stolen` table exists."""
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        ids = [
            r[0] for r in await (await conn.execute(f"select id from {schema}.orders")).fetchall()
        ]
        cursor = await conn.execute("select to_regclass(%s) is not null", (f"{schema}.stolen",))
        row = await cursor.fetchone()
    return sorted(ids), bool(row and row[0])


def attempts(schema: str, marker: Path) -> list[str]:
    return [
        f"select event_id from {schema}.effects; commit; delete from {schema}.orders where id='o2'",
        f"create table {schema}.stolen (a int)",
        f"copy (select 1) to program 'touch {marker}'",
    ]


class TestTheQueries:
    async def test_the_three_writes_are_refused_and_nothing_changes(
        self, postgres_dsn: str, orders: str, tmp_path: Path
    ) -> None:
        """Each of reproduction 6's queries is refused when the file is read; the rows,
        the table list and the file system are as they were."""
        marker = tmp_path / "ran"
        for query in attempts(orders, marker):
            with pytest.raises(ValidationError, match=r"one statement|must be a SELECT"):
                SqlProbeConfig(dsn=postgres_dsn, query=query, allow_writable_role=True)
        assert await state(postgres_dsn, orders) == (["o1", "o2"], False)
        assert not marker.exists()

    async def test_past_the_parser_the_session_still_refuses(
        self, postgres_dsn: str, orders: str, tmp_path: Path
    ) -> None:
        """Trying to break it: validation skipped, as a writable role that is allowed.
        Every transaction is read-only, so the `delete` after `commit` and the `create
        table` fail, and the rows and tables are as they were."""
        writes = attempts(orders, tmp_path / "ran")[:2]
        for query in writes:
            config = SqlProbeConfig.model_construct(
                dsn=postgres_dsn, query=query, allow_writable_role=True
            )
            async with SqlProbe(config) as probe:
                with pytest.raises(ProbeError, match="read-only transaction"):
                    await probe.effects(1)
        assert await state(postgres_dsn, orders) == (["o1", "o2"], False)

    async def test_copy_to_program_is_stopped_by_the_role_check(
        self, postgres_dsn: str, orders: str, tmp_path: Path
    ) -> None:
        """`COPY … TO PROGRAM` is no write to the database: PostgreSQL runs it inside a
        read-only transaction (checked: the program ran). Past the parser, only the role
        check stands in its way: the superuser is refused at connect, nothing runs."""
        marker = tmp_path / "ran"
        query = attempts(orders, marker)[2]
        config = SqlProbeConfig.model_construct(dsn=postgres_dsn, query=query)
        with pytest.raises(ProbeError, match="can write"):
            async with SqlProbe(config) as probe:
                await probe.effects(1)
        assert not marker.exists()


class TestTheRole:
    async def test_a_role_that_can_write_is_refused(self, postgres_dsn: str, orders: str) -> None:
        """The cluster's superuser (and owner of the tables) is refused at connect, in one
        line naming what it may write and what to do."""
        config = SqlProbeConfig(dsn=postgres_dsn, query=f"select event_id from {orders}.effects")
        with pytest.raises(ProbeError) as caught:
            async with SqlProbe(config):
                pass
        line = str(caught.value)
        assert "can write (" in line
        assert "is a superuser" in line
        assert "SELECT-only role" in line
        assert "allow_writable_role: true" in line

    async def test_an_owner_without_superuser_is_refused(
        self, postgres_dsn: str, orders: str
    ) -> None:
        """A plain role that may delete from one table is enough to refuse."""
        role = f"w_{orders}"[:60]
        async with await psycopg.AsyncConnection.connect(postgres_dsn, autocommit=True) as conn:
            await conn.execute(f"create role {role} login")
            await conn.execute(f"grant usage on schema {orders} to {role}")
            await conn.execute(f"grant select, delete on {orders}.orders to {role}")
        dsn = reader_dsn(postgres_dsn).replace("chaosbus_probe@", f"{role}@")
        config = SqlProbeConfig(dsn=dsn, query=f"select id from {orders}.orders")
        with pytest.raises(
            ProbeError, match=rf"may INSERT, UPDATE, DELETE or TRUNCATE \({orders}.orders\)"
        ):
            async with SqlProbe(config):
                pass

    async def test_allowed_it_reads_and_says_so_loudly(
        self, postgres_dsn: str, orders: str, caplog: pytest.LogCaptureFixture
    ) -> None:
        """`allow_writable_role: true`: it reads, with a warning naming what the role can do."""
        config = SqlProbeConfig(
            dsn=postgres_dsn,
            query=f"select event_id from {orders}.effects",
            allow_writable_role=True,
        )
        with caplog.at_level(logging.WARNING):
            async with SqlProbe(config) as probe:
                effects = await probe.effects(1)
        assert [e.event_id for e in effects] == ["e1"]
        assert "THE SQL PROBE'S ROLE" in caplog.text
        assert "is a superuser" in caplog.text

    async def test_a_select_only_role_reads(self, postgres_dsn: str, orders: str) -> None:
        """The role the README tells a team to create reads, with no warning needed."""
        config = SqlProbeConfig(
            dsn=reader_dsn(postgres_dsn), query=f"select event_id from {orders}.effects"
        )
        async with SqlProbe(config) as probe:
            assert [e.event_id for e in await probe.effects(1)] == ["e1"]
