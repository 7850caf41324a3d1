"""The demo's two ledgers with their state in PostgreSQL, where most teams keep it.

Tables, in a schema of the service's own (so services and test runs share one database):

| table      | holds                                                              |
| ---------- | ------------------------------------------------------------------ |
| `orders`   | `id`, `version`, `deleted`, `status`, `total`, `customer`           |
| `paid`     | `customer`, `total`: the sum of the customer's payments, in cents   |
| `seen`     | safe only: `event_id`s applied (deduplication)                      |
| `effects`  | one row per effect: `event_id`, `order_id`, `outcome`, `at`         |

The naive ledger applies every delivery (the last message wins, every payment adds, a
delete removes the row); the safe one does everything for one event in one transaction:
the `seen` insert deduplicates, the order upsert only replaces an older version (a delete
keeps a tombstone row), as `chaosbus_demo.ledgers.SafeLedger` does in Redis.
"""

from __future__ import annotations

import asyncio
import re

import psycopg
from psycopg import sql

from chaosbus_demo.events import OrderEvent
from chaosbus_demo.ledgers import Outcome

_SCHEMA = """
create schema if not exists {s};
create table if not exists {s}.orders (
  id text primary key, version bigint not null, deleted boolean not null default false,
  status text, total bigint, customer text);
create table if not exists {s}.paid (customer text primary key, total bigint not null);
create table if not exists {s}.seen (event_id text primary key);
create table if not exists {s}.effects (
  id bigserial primary key, event_id text not null, order_id text, outcome text,
  at timestamptz not null default now());
"""

_ADD_PAYMENT = """
insert into {s}.paid (customer, total) values (%(customer)s, %(amount)s)
on conflict (customer) do update set total = {s}.paid.total + excluded.total
"""

_UPSERT = """
insert into {s}.orders (id, version, deleted, status, total, customer)
values (%(id)s, %(version)s, %(deleted)s, %(status)s, %(total)s, %(customer)s)
on conflict (id) do update set version = excluded.version, deleted = excluded.deleted,
  status = excluded.status, total = excluded.total, customer = excluded.customer
"""

# A state ranks by (version, deleted): a delete outranks the same version.
_NEWER_ONLY = """
 where excluded.version > {s}.orders.version
    or (excluded.version = {s}.orders.version and excluded.deleted and not {s}.orders.deleted)
"""

_EFFECT = """
insert into {s}.effects (event_id, order_id, outcome) values (%(event_id)s, %(id)s, %(outcome)s)
"""


def schema_name(prefix: str) -> str:
    """A schema name from a key prefix (`t1a2b:` -> `t1a2b`), lower case, identifier-safe."""
    name = re.sub(r"[^a-z0-9_]", "_", prefix.lower()).strip("_") or "ledger"
    return name if name[0].isalpha() else f"s_{name}"


def _params(event: OrderEvent, outcome: str = "") -> dict[str, object]:
    return {
        "id": event.order_id,
        "version": event.version,
        "deleted": event.is_delete,
        "status": event.status,
        "total": event.total,
        "customer": event.customer,
        "amount": event.amount,
        "event_id": event.event_id,
        "outcome": outcome,
    }


class _SqlLedger:
    def __init__(self, conn: psycopg.AsyncConnection[tuple[object, ...]], schema: str) -> None:
        self.conn = conn
        self.schema = schema
        self._s = sql.Identifier(schema)
        # One connection: the HTTP view's reads must not land inside an apply's transaction.
        self.lock = asyncio.Lock()

    def _q(self, template: str) -> sql.Composed:
        return sql.SQL(template).format(s=self._s)

    async def create(self) -> None:
        async with self.lock, self.conn.transaction():
            await self.conn.execute(self._q(_SCHEMA))

    async def order_version(self, order_id: str) -> int | None:
        """The order's version, None when absent or deleted (what the HTTP view shows)."""
        query = self._q("select version, deleted from {s}.orders where id = %s")
        async with self.lock, self.conn.transaction():
            row = await (await self.conn.execute(query, (order_id,))).fetchone()
        if row is None or row[1]:
            return None
        return int(str(row[0]))

    async def paid(self, customer: str) -> int | None:
        query = self._q("select total from {s}.paid where customer = %s")
        async with self.lock, self.conn.transaction():
            row = await (await self.conn.execute(query, (customer,))).fetchone()
        return None if row is None else int(str(row[0]))

    async def effect_ids(self) -> list[str]:
        async with self.lock, self.conn.transaction():
            query = self._q("select event_id from {s}.effects order by id")
            cursor = await self.conn.execute(query)
            return [str(row[0]) for row in await cursor.fetchall()]


class NaiveSqlLedger(_SqlLedger):
    async def apply(self, event: OrderEvent) -> Outcome:
        outcome: Outcome = "deleted" if event.is_delete else "applied"
        params = _params(event, outcome)
        async with self.lock, self.conn.transaction():
            if event.amount is not None:
                await self.conn.execute(self._q(_ADD_PAYMENT), params)
            if event.is_delete:
                await self.conn.execute(self._q("delete from {s}.orders where id = %(id)s"), params)
            else:
                await self.conn.execute(self._q(_UPSERT), params)
            await self.conn.execute(self._q(_EFFECT), params)
        return outcome


class SafeSqlLedger(_SqlLedger):
    async def apply(self, event: OrderEvent) -> Outcome:
        params = _params(event)
        seen = "insert into {s}.seen (event_id) values (%(event_id)s) on conflict do nothing"
        async with self.lock, self.conn.transaction():
            fresh = await self.conn.execute(self._q(seen), params)
            if fresh.rowcount == 0:
                return "duplicate"
            if event.amount is not None:
                await self.conn.execute(self._q(_ADD_PAYMENT), params)
            upserted = await self.conn.execute(self._q(_UPSERT + _NEWER_ONLY), params)
            outcome: Outcome
            if upserted.rowcount == 0:
                outcome = "counted" if event.amount is not None else "stale"
            else:
                outcome = "deleted" if event.is_delete else "applied"
            await self.conn.execute(self._q(_EFFECT), {**params, "outcome": outcome})
        return outcome
