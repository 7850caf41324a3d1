"""The embedded history: one SQLite file, no server.

Write-ahead logging lets readers go on while a run writes; every write is `BEGIN IMMEDIATE`
(the file's write lock taken at the start, so two writers queue instead of failing half-way)
and waits up to `timeout_s` for a lock another process holds. A file that is not an SQLite
database, or a database without the history's meta table but with tables of its own (a
foreign file), is refused in one line rather than written into.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from chaosbus.history.errors import HistoryError, HistoryUnavailable, NotAHistory
from chaosbus.history.location import Location
from chaosbus.history.schema import META
from chaosbus.history.store import Cursor, SqlHistory

_NOT_A_DATABASE = ("file is not a database", "malformed", "not a database")


class SqliteHistory(SqlHistory):
    def __init__(self, location: Location, *, timeout_s: float = 30.0) -> None:
        super().__init__(location)
        path = Path(location.target)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise HistoryUnavailable(
                f"history {path}: cannot create its folder ({exc.strerror})"
            ) from exc
        with self._doing("opening"):
            self._conn = sqlite3.connect(path, timeout=timeout_s, isolation_level=None)
        try:
            with self._doing("opening"):
                self._refuse_foreign()
                self._conn.execute("PRAGMA foreign_keys = ON")
                self._write_ahead_logging(timeout_s)
        except HistoryError:
            self._conn.close()
            raise

    def _write_ahead_logging(self, timeout_s: float) -> None:
        """Switch a new file to WAL. The switch needs the file to itself and SQLite does not
        wait on the busy timeout for it, so processes opening a new history at once would
        fail with `database is locked`: they retry until `timeout_s` instead."""
        deadline = time.monotonic() + timeout_s
        while True:
            mode = self._conn.execute("PRAGMA journal_mode").fetchone()
            if mode is not None and str(mode[0]).lower() == "wal":
                return
            try:
                self._conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
            time.sleep(0.02)  # another opener holds the file for its own switch

    def _refuse_foreign(self) -> None:
        tables = {
            row[0]
            for row in self._conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        }
        if tables and META not in tables:
            shown = ", ".join(sorted(tables)[:5])
            raise NotAHistory(
                f"history {self.location.target} is an SQLite database of something else "
                f"(tables {shown}), not a chaosbus history"
            )

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        return self._conn.execute(sql, tuple(params))

    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._conn.executemany(sql, [tuple(row) for row in rows])

    @contextmanager
    def _write(self, *, migrating: bool = False) -> Iterator[None]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def _has_meta(self) -> bool:
        row = self._conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (META,)
        ).fetchone()
        return row is not None

    def _engine_errors(self) -> tuple[type[Exception], ...]:
        return (sqlite3.Error,)

    def _problem(self, exc: Exception, doing: str) -> HistoryError:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        where = self.location.target
        if any(text in message for text in _NOT_A_DATABASE):
            return NotAHistory(f"history {where} is not an SQLite database ({message})")
        if isinstance(exc, sqlite3.OperationalError):
            return HistoryUnavailable(f"history {where}: {doing}: {message}")
        return HistoryError(f"history {where}: {doing}: {message}")

    def close(self) -> None:
        self._conn.close()
