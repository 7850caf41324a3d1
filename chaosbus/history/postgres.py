"""A team's history: one PostgreSQL database every runner points at.

The tables live in the connection's first `search_path` schema (`public` unless the URL
says `?options=-csearch_path%3Dchaos`), beside whatever else the database holds. A write is
one transaction; a migration also holds an advisory lock, so runners starting together
against a new database create the tables once. An unreachable server, a
refused password or a role that may not create tables is one line naming the URL with its
password masked.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg

from chaosbus.clients.redaction import redact_text
from chaosbus.history.errors import HistoryError, HistoryUnavailable
from chaosbus.history.location import Location
from chaosbus.history.schema import META
from chaosbus.history.store import Cursor, SqlHistory

# The advisory lock migrations take: the bytes of "chaosbus" as a (positive) bigint.
MIGRATION_LOCK = int.from_bytes(b"chaosbus", "big")


class PostgresHistory(SqlHistory):
    placeholder = "%s"

    def __init__(self, location: Location, *, connect_timeout_s: int = 5) -> None:
        super().__init__(location)
        with self._doing("connecting"):
            self._conn = psycopg.connect(
                location.target, connect_timeout=connect_timeout_s, autocommit=True
            )

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        return self._conn.execute(sql, tuple(params))

    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self._conn.cursor() as cursor:
            cursor.executemany(sql, [tuple(row) for row in rows])

    @contextmanager
    def _write(self, *, migrating: bool = False) -> Iterator[None]:
        """One transaction; to migrate, under a session-level advisory lock taken *before*
        it begins. A lock taken inside would not do: a backend that waited for it keeps the
        catalog it began the transaction with, misses the tables the winner created, and
        creates them again (seen with six processes racing on a new schema)."""
        if migrating:
            self._conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
        try:
            with self._conn.transaction():
                yield
        finally:
            if migrating:
                self._conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))

    def _has_meta(self) -> bool:
        row = self._conn.execute("SELECT to_regclass(%s)", (META,)).fetchone()
        return row is not None and row[0] is not None

    def _engine_errors(self) -> tuple[type[Exception], ...]:
        return (psycopg.Error,)

    def _problem(self, exc: Exception, doing: str) -> HistoryError:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        message = redact_text(lines[0] if lines else type(exc).__name__)
        where = self.location.describe()
        if isinstance(exc, psycopg.OperationalError | psycopg.errors.InsufficientPrivilege):
            return HistoryUnavailable(f"history {where}: {doing}: {message}")
        return HistoryError(f"history {where}: {doing}: {message}")

    def close(self) -> None:
        self._conn.close()
