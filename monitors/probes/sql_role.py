"""Whether the SQL probe's role can write, asked of PostgreSQL at connect.

The read-only transaction and the one-SELECT rule (`sql_statement`) stop a query that
writes by itself; what a SELECT reaches through a function (`dblink`, a SECURITY DEFINER
function, `lo_import`) only the role's privileges stop. So at connect the probe asks the
catalog what its role may do, and refuses a role that can write unless the experiment says
`allow_writable_role: true` (then it says so loudly on every connect).

A role can write when it is a superuser, is a member of a role that writes files or data
server-wide (`pg_write_server_files`, `pg_execute_server_program`, `pg_write_all_data`),
may INSERT, UPDATE, DELETE or TRUNCATE a table or view, may change a sequence, may CREATE
in a schema, or may create schemas in the database. Temporary tables (PUBLIC's default
TEMP privilege) are the session's own and are not counted. The SELECT-only role to create
is in the README ("A SELECT-only role for the sql probe").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

# One row per way the role can write: (what, how many objects, up to three of their names).
WRITE_PRIVILEGES = """
with
  rel as (
    select c.oid, quote_ident(n.nspname) || '.' || quote_ident(c.relname) as name, c.relkind
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname not in ('pg_catalog', 'information_schema')
      and n.nspname not like 'pg\\_%'
  ),
  found(what, name) as (
    select 'is a superuser', current_user::text
      from pg_roles where rolname = current_user and rolsuper
    union all
    select 'is a member of ' || r, r
      from unnest(array['pg_write_server_files', 'pg_execute_server_program',
                        'pg_write_all_data']) as r
      where pg_has_role(current_user, r, 'MEMBER')
    union all
    select 'may INSERT, UPDATE, DELETE or TRUNCATE', name from rel
      where relkind in ('r', 'p', 'v', 'f', 'm')
        and has_table_privilege(oid, 'INSERT, UPDATE, DELETE, TRUNCATE')
    union all
    select 'may change the sequence', name from rel
      -- CASE: the planner may call the function before the relkind test, on a table.
      where case when relkind = 'S' then has_sequence_privilege(oid, 'USAGE, UPDATE') end
    union all
    select 'may CREATE in the schema', quote_ident(nspname) from pg_namespace
      where nspname not in ('pg_catalog', 'information_schema')
        and nspname not like 'pg\\_%'
        and has_schema_privilege(oid, 'CREATE')
    union all
    select 'may create schemas in the database', current_database()::text
      where has_database_privilege(current_database(), 'CREATE')
  )
select what, count(*) as objects, (array_agg(name order by name))[1:3] as names
from found group by what order by what
"""


async def write_privileges(conn: psycopg.AsyncConnection[Any]) -> list[str]:
    """One sentence per way the connection's role can write; empty for a SELECT-only role."""
    async with conn.transaction():
        cursor = await conn.execute(WRITE_PRIVILEGES)
        rows = await cursor.fetchall()
    return describe([_as_tuple(row) for row in rows])


def describe(rows: Sequence[tuple[str, int, Sequence[str]]]) -> list[str]:
    """`may INSERT, UPDATE, DELETE or TRUNCATE 12 tables (public.a, public.b, public.c, …)`."""
    lines = []
    for what, objects, names in rows:
        shown = ", ".join(names) + (", …" if objects > len(names) else "")
        lines.append(f"{what} ({shown})" if objects > 1 or what.startswith("may") else what)
    return lines


def _as_tuple(row: Any) -> tuple[str, int, Sequence[str]]:
    if isinstance(row, dict):
        return str(row["what"]), int(row["objects"]), list(row["names"] or ())
    what, objects, names = row
    return str(what), int(objects), list(names or ())
