"""The team's history on a real PostgreSQL: the same schema created by chaosbus itself,
concurrent writers in several processes losing nothing (and racing to create the tables),
a newer schema, an unreachable server and an unknown role each refused in one line."""

from __future__ import annotations

import multiprocessing
import multiprocessing.synchronize
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from chaosbus.history.connect import open_history
from chaosbus.history.errors import HistoryUnavailable, SchemaTooNew
from chaosbus.history.location import Location
from chaosbus.history.schema import LATEST
from chaosbus.history.store import Query
from chaosbus.testing import free_port_pair
from tests.unit.history_support import T0, stored

pytestmark = pytest.mark.integration

WRITERS, EACH = 6, 15


def in_schema(dsn: str, schema: str) -> str:
    joiner = "&" if "?" in dsn else "?"
    return f"{dsn}{joiner}options=-csearch_path%3D{schema}"


@pytest.fixture
def location(postgres_dsn: str) -> Iterator[Location]:
    """A schema of its own per test, dropped after: tests never see each other's runs."""
    schema = f"history_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield Location("postgresql", in_schema(postgres_dsn, schema))
    finally:
        with psycopg.connect(postgres_dsn, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def test_a_run_reads_back_whole_with_its_labels(location: Location) -> None:
    """The same StoredRun comes back; the tables are chaosbus's own, at the latest version."""
    run = stored("p1", anomalies={"lost_event": 2}, labels={"service": "orders", "v": "2"})
    with open_history(location) as store:
        store.append(run)
        assert store.get("p1") == run
        assert store.schema_version() == LATEST
        assert [s.id for s in store.summaries(Query(labels={"v": "2"}))] == ["p1"]


def _writer(target: str, writer: int, start: multiprocessing.synchronize.Event) -> None:
    start.wait()
    with open_history(Location("postgresql", target)) as store:
        for n in range(EACH):
            store.append(stored(f"w{writer}-{n}", started_ms=T0 + writer * 1000 + n))


def test_processes_writing_at_once_into_a_new_schema_lose_nothing(location: Location) -> None:
    """Six processes open an empty schema at once (the migration lock makes one of them
    create the tables) and write 15 runs each: 90 runs, each whole."""
    context = multiprocessing.get_context("fork")  # no re-import: the children start at once
    start = context.Event()
    writers = [
        context.Process(target=_writer, args=(location.target, w, start)) for w in range(WRITERS)
    ]
    for process in writers:
        process.start()
    start.set()
    for process in writers:
        process.join(timeout=120)
    assert [p.exitcode for p in writers] == [0] * WRITERS
    with open_history(location) as store:
        found = store.summaries(Query(limit=1000))
    assert {s.id for s in found} == {f"w{w}-{n}" for w in range(WRITERS) for n in range(EACH)}


def test_a_newer_schema_is_refused(location: Location) -> None:
    """A version this chaosbus does not know: one line, nothing changed."""
    with open_history(location) as store:
        store._execute("UPDATE chaosbus_history_meta SET value = '7'")
    with pytest.raises(SchemaTooNew, match="has schema version 7; this chaosbus knows up to"):
        open_history(location)


def test_an_unreachable_server_is_one_line_without_the_password() -> None:
    """Nothing listens: HistoryUnavailable, one line, the password masked."""
    port = free_port_pair()
    where = Location("postgresql", f"postgresql://chaos:s3cret@127.0.0.1:{port}/history")
    with pytest.raises(HistoryUnavailable) as raised:
        open_history(where)
    line = str(raised.value)
    assert line.startswith(f"history postgresql://chaos:***@127.0.0.1:{port}/history: connecting: ")
    assert "s3cret" not in line
    assert "\n" not in line


def test_an_unknown_role_is_refused_in_one_line(postgres_dsn: str) -> None:
    """A role the server does not know (not authorised): one line naming it."""
    server = postgres_dsn.split("@", 1)[1]
    where = Location("postgresql", f"postgresql://nobody_{uuid.uuid4().hex[:6]}@{server}")
    with pytest.raises(HistoryUnavailable, match=r'role "nobody_\w+" does not exist'):
        open_history(where)
