"""The embedded history (SQLite, a real file): a run kept whole, read back, filtered; the
schema created and upgraded in order without losing a row; a newer schema, a corrupt or
foreign file refused in one line; concurrent writers in several processes lose nothing; a
write that fails leaves nothing half-written."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

import pytest

from chaosbus.history.connect import open_history
from chaosbus.history.errors import HistoryError, NotAHistory, SchemaTooNew, UnknownRun
from chaosbus.history.location import Location
from chaosbus.history.schema import LATEST, MIGRATIONS, Migration
from chaosbus.history.sqlite import SqliteHistory
from chaosbus.history.store import Query
from tests.unit.history_support import DAY_MS, T0, stored

WRITERS, EACH = 6, 15


def at(tmp_path: Path) -> Location:
    return Location("sqlite", str(tmp_path / "deep" / "history.sqlite"))


class TestAppendAndRead:
    def test_a_run_reads_back_whole(self, tmp_path: Path) -> None:
        """Summary, labels, the exact text, facts and report come back equal."""
        run = stored("r1", anomalies={"duplicate_effect": 2}, ttr=None)
        with open_history(at(tmp_path)) as store:
            store.append(run)
            again = store.get("r1")
        assert again == run
        assert again.summary.measures.anomalies == {"duplicate_effect": 2}
        assert again.summary.status == "violated"
        assert again.summary.exit_code == 1

    def test_filters_narrow_and_order_is_newest_first(self, tmp_path: Path) -> None:
        """By experiment, label, status and dates; newest first; `limit` caps."""
        runs = [
            stored("a", started_ms=T0, labels={"service": "orders", "version": "1"}),
            stored("b", started_ms=T0 + DAY_MS, labels={"service": "orders", "version": "2"},
                   anomalies={"lost_event": 1}),
            stored("c", started_ms=T0 + 2 * DAY_MS, labels={"service": "billing"}),
        ]  # fmt: skip
        with open_history(at(tmp_path)) as store:
            for run in runs:
                store.append(run)

            def ids(**query: object) -> list[str]:
                return [s.id for s in store.summaries(Query(**query))]  # type: ignore[arg-type]

            assert ids() == ["c", "b", "a"]
            assert ids(labels={"service": "orders"}) == ["b", "a"]
            assert ids(labels={"service": "orders", "version": "1"}) == ["a"]
            assert ids(status="violated") == ["b"]
            assert ids(since_ms=T0 + DAY_MS) == ["c", "b"]
            assert ids(until_ms=T0 + DAY_MS) == ["a"]
            assert ids(experiment="other") == []
            assert ids(limit=1) == ["c"]

    def test_an_unknown_id_is_one_line(self, tmp_path: Path) -> None:
        """`get` of an id never recorded: UnknownRun naming it and the history."""
        with open_history(at(tmp_path)) as store, pytest.raises(UnknownRun) as raised:
            store.get("nope")
        assert str(raised.value) == f"no run 'nope' in the history {at(tmp_path).target}"

    def test_the_same_id_twice_is_refused_and_the_first_kept(self, tmp_path: Path) -> None:
        """A second run under an id already taken fails in one line; the first stays whole."""
        with open_history(at(tmp_path)) as store:
            store.append(stored("r1"))
            with pytest.raises(HistoryError, match="writing run r1: UNIQUE constraint failed"):
                store.append(stored("r1", anomalies={"lost_event": 4}))
            assert store.get("r1").summary.measures.anomalies == {}


class TestNothingHalfWritten:
    def test_a_label_the_database_refuses_rolls_the_whole_run_back(self, tmp_path: Path) -> None:
        """The labels are written after the run's row, in the same transaction: a label the
        schema's CHECK refuses leaves no row of that run behind."""
        run = stored("r1")
        bad = run.summary.model_copy(update={"labels": {"service": "x" * 201}})
        with open_history(at(tmp_path)) as store:
            with pytest.raises(HistoryError, match="CHECK constraint failed"):
                store.append(run.model_copy(update={"summary": bad}))
            assert store.summaries(Query()) == []
            with pytest.raises(UnknownRun):
                store.get("r1")

    def test_a_failing_migration_leaves_the_previous_version_whole(self, tmp_path: Path) -> None:
        """A migration whose second statement fails: the version and the tables are as
        before, the first statement undone, and the rows all there."""
        with open_history(at(tmp_path)) as store:
            store.append(stored("r1"))
        broken = Migration(
            LATEST + 1,
            "broken",
            ("ALTER TABLE chaosbus_runs ADD COLUMN extra TEXT", "ALTER TABLE nowhere ADD x INT"),
        )
        store = SqliteHistory(at(tmp_path))
        with store, pytest.raises(HistoryError, match="no such table: nowhere"):
            store.migrate((*MIGRATIONS, broken))
        with SqliteHistory(at(tmp_path)) as store:
            assert store.schema_version() == LATEST
            columns = [row[1] for row in store._execute("PRAGMA table_info(chaosbus_runs)")]
            assert "extra" not in columns
            assert store.get("r1") == stored("r1")


class TestSchema:
    def test_a_new_file_is_created_at_the_latest_version(self, tmp_path: Path) -> None:
        """The folder and the file are made; the version is the last migration's."""
        with open_history(at(tmp_path)) as store:
            assert store.schema_version() == LATEST == MIGRATIONS[-1].version == 2

    def test_an_upgrade_from_version_1_keeps_every_row(self, tmp_path: Path) -> None:
        """A history written at version 1 (no tier, suite, rerun_of) opens at the latest
        version with its row intact and the new fields empty."""
        run = stored("old", labels={"service": "orders"})
        with SqliteHistory(at(tmp_path)) as store:
            assert store.migrate(MIGRATIONS[:1]) == 1
            row = {
                "id": "old", "run_id": "old", "origin": "run", "experiment": "paid-once",
                "experiment_sha256": run.summary.experiment_sha256,
                "experiment_text": run.experiment_text, "seed": 7, "status": "held",
                "exit_code": 0, "started_ms": T0, "duration_s": 9.0, "recorded_ms": T0 + 9000,
                "chaosbus_version": "0.0.9", "anomalies_total": 0, "time_to_recovery_s": 0.0,
                "latency_p50_ms": None, "latency_p99_ms": None, "judged_share": 1.0,
                "measures": run.summary.measures.model_dump_json(),
                "facts": run.facts.model_dump_json(), "report": run.report.model_dump_json(),
            }  # fmt: skip
            names, marks = ", ".join(row), ", ".join("?" for _ in row)
            store._execute(
                f"INSERT INTO chaosbus_runs ({names}) VALUES ({marks})", list(row.values())
            )
            store._execute("INSERT INTO chaosbus_run_labels VALUES ('old', 'service', 'orders')")
        with open_history(at(tmp_path)) as store:
            assert store.schema_version() == LATEST
            again = store.get("old")
        assert again.summary.labels == {"service": "orders"}
        assert again.summary.chaosbus_version == "0.0.9"
        assert (again.summary.tier, again.summary.suite, again.summary.rerun_of) == (None,) * 3
        assert again.report == run.report
        assert again.experiment_text == run.experiment_text

    def test_a_newer_schema_is_refused_in_one_line(self, tmp_path: Path) -> None:
        """Version 99 (a newer chaosbus): refused, never downgraded, the file untouched."""
        with open_history(at(tmp_path)) as store:
            store._execute("UPDATE chaosbus_history_meta SET value = '99'")
        before = Path(at(tmp_path).target).read_bytes()
        with pytest.raises(SchemaTooNew) as raised:
            open_history(at(tmp_path))
        assert str(raised.value) == (
            f"history {at(tmp_path).target} has schema version 99; this chaosbus knows up to "
            f"{LATEST}: use a newer chaosbus to read or write it"
        )
        assert Path(at(tmp_path).target).read_bytes() == before


class TestBadFiles:
    def test_a_corrupt_file_is_refused(self, tmp_path: Path) -> None:
        """Bytes that are not SQLite: NotAHistory, one line, the file left as it was."""
        path = tmp_path / "history.sqlite"
        path.write_bytes(b"this is not a database\n" * 100)
        with pytest.raises(NotAHistory) as raised:
            open_history(Location("sqlite", str(path)))
        assert str(raised.value) == (
            f"history {path} is not an SQLite database (file is not a database)"
        )
        assert "\n" not in str(raised.value)
        assert path.read_bytes() == b"this is not a database\n" * 100

    def test_a_foreign_database_is_not_written_into(self, tmp_path: Path) -> None:
        """An SQLite file of another program: refused naming its tables; no table added."""
        path = tmp_path / "app.db"
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE customers (id INTEGER)")
        with pytest.raises(NotAHistory, match=r"of something else \(tables customers\)"):
            open_history(Location("sqlite", str(path)))
        with sqlite3.connect(path) as db:
            tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master")]
        assert tables == ["customers"]

    def test_a_folder_that_cannot_be_made_is_one_line(self, tmp_path: Path) -> None:
        """A path under a file: HistoryUnavailable naming why."""
        blocker = tmp_path / "file"
        blocker.write_text("")
        with pytest.raises(HistoryError, match="cannot create its folder"):
            open_history(Location("sqlite", str(blocker / "sub" / "h.sqlite")))


def _writer(path: str, writer: int, start: multiprocessing.synchronize.Event) -> None:
    start.wait()
    with open_history(Location("sqlite", path)) as store:
        for n in range(EACH):
            store.append(stored(f"w{writer}-{n}", started_ms=T0 + writer * 1000 + n))


class TestConcurrentWriters:
    def test_processes_writing_at_once_into_a_new_file_lose_nothing(self, tmp_path: Path) -> None:
        """Six processes open a history that does not exist yet (so they race to create
        it) and write 15 runs each at once: 90 runs, each whole, the schema made once."""
        path = str(tmp_path / "history.sqlite")
        context = multiprocessing.get_context("fork")  # no re-import: the children start at once
        start = context.Event()
        writers = [context.Process(target=_writer, args=(path, w, start)) for w in range(WRITERS)]
        for process in writers:
            process.start()
        start.set()
        for process in writers:
            process.join(timeout=120)
        assert [p.exitcode for p in writers] == [0] * WRITERS
        with open_history(Location("sqlite", path)) as store:
            found = store.summaries(Query(limit=1000))
            assert store.schema_version() == LATEST
        expected = {f"w{w}-{n}" for w in range(WRITERS) for n in range(EACH)}
        assert {s.id for s in found} == expected
        assert all(s.labels == {"service": "orders-api"} for s in found)
