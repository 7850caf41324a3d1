"""The history's tables, one schema for SQLite and PostgreSQL, and its migrations in order.

    chaosbus_history_meta  (name, value)       `schema_version`: the migrations applied
    chaosbus_runs          one row per recorded run (a run, a check, a demo verdict…)
    chaosbus_run_labels    (run, name, value)   the run's labels, one row each

The measures a team may chart from SQL directly (Grafana on the PostgreSQL history, say) are
columns: status, exit code, start, duration, anomalies total, time to recovery, latency p50
and p99, judged share. What varies in shape is JSON text beside them: `measures` (anomaly
counts by class, faults by type, hypotheses), `facts` (`runner.facts.RunFacts`) and `report`
(the `RunReport`), with the experiment's exact text and its sha256.

Migrations only add (tables, columns, indexes), each in one transaction with the version
bump, so an upgrade never loses a row and an interrupted one leaves the previous version
whole. A store whose version is above `LATEST` was written by a newer chaosbus and is
refused (`SchemaTooNew`), never downgraded. The statements use only types and syntax both
SQLite and PostgreSQL accept (TEXT, BIGINT, INTEGER, DOUBLE PRECISION).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    version: int
    what: str
    statements: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "runs and their labels",
        (
            """CREATE TABLE chaosbus_history_meta (
                name TEXT PRIMARY KEY,
                value TEXT NOT NULL)""",
            """CREATE TABLE chaosbus_runs (
                id TEXT PRIMARY KEY,
                run_id TEXT NOT NULL,
                origin TEXT NOT NULL,
                experiment TEXT NOT NULL,
                experiment_sha256 TEXT NOT NULL,
                experiment_text TEXT NOT NULL,
                seed BIGINT NOT NULL,
                status TEXT NOT NULL,
                exit_code INTEGER NOT NULL,
                started_ms BIGINT NOT NULL,
                duration_s DOUBLE PRECISION NOT NULL,
                recorded_ms BIGINT NOT NULL,
                chaosbus_version TEXT NOT NULL,
                anomalies_total INTEGER NOT NULL,
                time_to_recovery_s DOUBLE PRECISION,
                latency_p50_ms DOUBLE PRECISION,
                latency_p99_ms DOUBLE PRECISION,
                judged_share DOUBLE PRECISION,
                measures TEXT NOT NULL,
                facts TEXT NOT NULL,
                report TEXT NOT NULL)""",
            """CREATE TABLE chaosbus_run_labels (
                run TEXT NOT NULL REFERENCES chaosbus_runs (id) ON DELETE CASCADE,
                name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
                value TEXT NOT NULL CHECK (length(value) BETWEEN 1 AND 200),
                PRIMARY KEY (run, name))""",
            "CREATE INDEX chaosbus_runs_by_experiment ON chaosbus_runs (experiment, started_ms)",
            "CREATE INDEX chaosbus_run_labels_by_value ON chaosbus_run_labels (name, value)",
        ),
    ),
    Migration(
        2,
        "suites by tier, and re-runs",
        (
            "ALTER TABLE chaosbus_runs ADD COLUMN tier TEXT",
            "ALTER TABLE chaosbus_runs ADD COLUMN suite TEXT",
            "ALTER TABLE chaosbus_runs ADD COLUMN rerun_of TEXT",
            "CREATE INDEX chaosbus_runs_by_suite ON chaosbus_runs (suite)",
        ),
    ),
)

LATEST = MIGRATIONS[-1].version
VERSION_KEY = "schema_version"
META = "chaosbus_history_meta"
