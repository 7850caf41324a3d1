"""The history store: one SQL implementation over two engines, opened by location.

    open_history(location) ─► SqliteHistory    (history.sqlite: a file, WAL, BEGIN IMMEDIATE)
                          └─► PostgresHistory  (history.postgres: advisory lock to migrate)
         │
         ├─ on open: read the schema version; newer than this chaosbus → SchemaTooNew; older
         │  → migrate under the engine's write lock (the version read again inside it, so
         │  concurrent first opens migrate once)
         ├─ append(run)      one transaction: the run's row and its labels, or nothing
         ├─ get(id)          a StoredRun, or UnknownRun
         └─ summaries(query) newest first, filtered by scenario, labels, status, dates, text

Both engines run the same statements (`?` placeholders; PostgreSQL's driver gets `%s`).
Engine errors become `HistoryError`s in one line (`_problem`), the URL's password masked.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from chaosbus.history.entry import Measures, RunSummary, StoredRun
from chaosbus.history.errors import HistoryError, SchemaTooNew, UnknownRun
from chaosbus.history.location import Location
from chaosbus.history.schema import META, MIGRATIONS, VERSION_KEY, Migration
from chaosbus.report.model import RunReport
from chaosbus.runner.facts import RunFacts

_COLUMNS = (
    "id",
    "run_id",
    "origin",
    "experiment",
    "experiment_sha256",
    "seed",
    "status",
    "exit_code",
    "started_ms",
    "duration_s",
    "recorded_ms",
    "chaosbus_version",
    "tier",
    "suite",
    "rerun_of",
    "measures",
)
_CHUNK = 500  # ids per `IN (…)`: far below either engine's parameter limit


@dataclass(frozen=True)
class Query:
    """Which runs to list; every field narrows. Dates are epoch ms, `until_ms` exclusive."""

    experiment: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    status: str | None = None
    since_ms: int | None = None
    until_ms: int | None = None
    experiment_sha256: str | None = None
    suite: str | None = None
    limit: int = 20


class Cursor(Protocol):
    def fetchall(self) -> list[Any]: ...
    def fetchone(self) -> Any: ...


class SqlHistory:
    """What both engines share; a subclass opens the connection and names the differences."""

    placeholder = "?"

    def __init__(self, location: Location) -> None:
        self.location = location

    # ---- what an engine provides ---------------------------------------------------------

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        raise NotImplementedError

    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        raise NotImplementedError

    def _write(self, *, migrating: bool = False) -> AbstractContextManager[None]:
        """A transaction holding the engine's write lock until it commits or rolls back;
        `migrating`: also the lock concurrent migrations queue on."""
        raise NotImplementedError

    def _has_meta(self) -> bool:
        raise NotImplementedError

    def _problem(self, exc: Exception, doing: str) -> HistoryError:
        raise NotImplementedError

    def _engine_errors(self) -> tuple[type[Exception], ...]:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    # ---- the store ------------------------------------------------------------------------

    def __enter__(self) -> SqlHistory:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @contextmanager
    def _doing(self, what: str) -> Iterator[None]:
        try:
            yield
        except self._engine_errors() as exc:
            raise self._problem(exc, what) from exc

    def _sql(self, sql: str) -> str:
        return sql if self.placeholder == "?" else sql.replace("?", self.placeholder)

    def schema_version(self) -> int:
        with self._doing("reading the schema version"):
            return self._version()

    def _version(self) -> int:
        if not self._has_meta():
            return 0
        row = self._execute(
            self._sql(f"SELECT value FROM {META} WHERE name = ?"), (VERSION_KEY,)
        ).fetchone()
        return int(row[0]) if row else 0

    def migrate(self, migrations: Sequence[Migration] = MIGRATIONS) -> int:
        """Bring the store to the last of `migrations`; returns the version it is at."""
        latest = migrations[-1].version if migrations else 0
        with self._doing("reading the schema version"):
            found = self._version()
        self._refuse_newer(found, latest)
        if found == latest:
            return found
        with self._doing("upgrading the schema"), self._write(migrating=True):
            found = self._version()  # again, under the lock: another writer may have done it
            self._refuse_newer(found, latest)
            for migration in migrations:
                if migration.version <= found:
                    continue
                for statement in migration.statements:
                    self._execute(statement)
                self._set_version(migration.version)
        return latest

    def _refuse_newer(self, found: int, latest: int) -> None:
        if found > latest:
            raise SchemaTooNew(
                f"history {self.location.describe()} has schema version {found}; this "
                f"chaosbus knows up to {latest}: use a newer chaosbus to read or write it"
            )

    def _set_version(self, version: int) -> None:
        updated = self._execute(
            self._sql(f"UPDATE {META} SET value = ? WHERE name = ?"), (str(version), VERSION_KEY)
        )
        if getattr(updated, "rowcount", 0) == 0:
            self._execute(
                self._sql(f"INSERT INTO {META} (name, value) VALUES (?, ?)"),
                (VERSION_KEY, str(version)),
            )

    def append(self, run: StoredRun) -> None:
        """The run's row and its labels in one transaction: all of it, or nothing."""
        s = run.summary
        m = s.measures
        row = {
            "id": s.id,
            "run_id": s.run_id,
            "origin": s.origin,
            "experiment": s.experiment,
            "experiment_sha256": s.experiment_sha256,
            "experiment_text": run.experiment_text,
            "seed": s.seed,
            "status": s.status,
            "exit_code": s.exit_code,
            "started_ms": s.started_ms,
            "duration_s": s.duration_s,
            "recorded_ms": s.recorded_ms,
            "chaosbus_version": s.chaosbus_version,
            "anomalies_total": m.anomalies_total,
            "time_to_recovery_s": m.time_to_recovery_s,
            "latency_p50_ms": m.latency_p50_ms,
            "latency_p99_ms": m.latency_p99_ms,
            "judged_share": m.judged_share,
            "measures": m.model_dump_json(),
            "facts": run.facts.model_dump_json(),
            "report": run.report.model_dump_json(),
            "tier": s.tier,
            "suite": s.suite,
            "rerun_of": s.rerun_of,
        }
        names = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        with self._doing(f"writing run {s.id}"), self._write():
            self._execute(
                self._sql(f"INSERT INTO chaosbus_runs ({names}) VALUES ({marks})"),
                tuple(row.values()),
            )
            if s.labels:
                self._executemany(
                    self._sql(
                        "INSERT INTO chaosbus_run_labels (run, name, value) VALUES (?, ?, ?)"
                    ),
                    [(s.id, name, value) for name, value in sorted(s.labels.items())],
                )

    def get(self, entry_id: str) -> StoredRun:
        with self._doing(f"reading run {entry_id}"):
            row = self._execute(
                self._sql(
                    f"SELECT {', '.join(_COLUMNS)}, experiment_text, facts, report "
                    "FROM chaosbus_runs WHERE id = ?"
                ),
                (entry_id,),
            ).fetchone()
            if row is None:
                raise UnknownRun(f"no run {entry_id!r} in the history {self.location.describe()}")
            labels = self._labels([entry_id])
        summary = _summary(row, labels.get(entry_id, {}))
        text, facts, report = row[len(_COLUMNS) :]
        return StoredRun(
            summary=summary,
            experiment_text=text,
            facts=RunFacts.model_validate_json(facts),
            report=RunReport.model_validate_json(report),
        )

    def summaries(self, query: Query) -> list[RunSummary]:
        """The runs `query` selects, newest first, at most `query.limit`."""
        where, params = _where(query)
        sql = (
            f"SELECT {', '.join('r.' + c for c in _COLUMNS)} FROM chaosbus_runs r"
            f"{where} ORDER BY r.started_ms DESC, r.id DESC LIMIT ?"
        )
        with self._doing("listing runs"):
            rows = self._execute(self._sql(sql), (*params, query.limit)).fetchall()
            labels = self._labels([row[0] for row in rows])
        return [_summary(row, labels.get(row[0], {})) for row in rows]

    def _labels(self, ids: Sequence[str]) -> dict[str, dict[str, str]]:
        found: dict[str, dict[str, str]] = {}
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            marks = ", ".join("?" for _ in chunk)
            rows = self._execute(
                self._sql(
                    f"SELECT run, name, value FROM chaosbus_run_labels WHERE run IN ({marks})"
                ),
                tuple(chunk),
            ).fetchall()
            for run, name, value in rows:
                found.setdefault(run, {})[name] = value
        return found


def _where(query: Query) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    for column, value in (
        ("experiment", query.experiment),
        ("status", query.status),
        ("experiment_sha256", query.experiment_sha256),
        ("suite", query.suite),
    ):
        if value is not None:
            clauses.append(f"r.{column} = ?")
            params.append(value)
    if query.since_ms is not None:
        clauses.append("r.started_ms >= ?")
        params.append(query.since_ms)
    if query.until_ms is not None:
        clauses.append("r.started_ms < ?")
        params.append(query.until_ms)
    for name, value in sorted(query.labels.items()):
        clauses.append(
            "EXISTS (SELECT 1 FROM chaosbus_run_labels l "
            "WHERE l.run = r.id AND l.name = ? AND l.value = ?)"
        )
        params += [name, value]
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def _summary(row: Sequence[Any], labels: dict[str, str]) -> RunSummary:
    values = dict(zip(_COLUMNS, row, strict=False))
    measures = Measures.model_validate_json(values.pop("measures"))
    return RunSummary.model_validate(
        {**values, "seed": int(values["seed"]), "labels": labels, "measures": measures}
    )
