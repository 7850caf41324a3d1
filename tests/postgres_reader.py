"""A SELECT-only role for the sql probe in tests, as the README tells a team to create one.

The probe refuses a role that can write (issue 21, decision 0310); the test clusters run as
their superuser, which creates the data, while every probe reads as `chaosbus_probe`, a
member of `pg_read_all_data` (SELECT on every table, USAGE on every schema, nothing else).
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import psycopg

READER = "chaosbus_probe"


def reader_dsn(admin_dsn: str) -> str:
    """`admin_dsn` (a URL) with the SELECT-only role as its user; the role is created once."""
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_roles where rolname = %s", (READER,)).fetchone()
        if exists is None:
            conn.execute(f"create role {READER} login")
            conn.execute(f"grant pg_read_all_data to {READER}")
    parts = urlsplit(admin_dsn)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{READER}@{host}"))
