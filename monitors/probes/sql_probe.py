"""Reads the service's rows in PostgreSQL, in a read-only transaction, with bound parameters.

Two shapes, told apart by whether the query names the `%(entity)s` parameter:

- per entity, e.g. `select version, deleted from orders where id = %(entity)s`: the first
  column of the first row is the number (version or total); no row is an absent entity,
  and with `deleted_column` a row whose marker is true reads as absent too (tombstones);
- effects, e.g. `select event_id from effects`: one row per effect the service performed,
  its first column naming the event - for `once`, and for counters that name their events.

Three things keep the probe from writing (issue 21): the query must be one plain SELECT,
as PostgreSQL's own parser reads it (`sql_statement`: `select …; commit; delete …`, `create
table`, `copy … to program` are refused when the file is read); every transaction of the
session is read-only (`default_transaction_read_only`, and psycopg's `read_only`); and at
connect the role is asked what it may write (`sql_role`): a role that can write is refused
unless the check says `allow_writable_role: true`, and then a warning says so on every
connect. The entity is always a bound parameter, never pasted into the SQL. The `sql`
probe kind is `KIND`.

A connection the server dropped (a restart, a failover) is opened again by the next read:
while PostgreSQL is away each read fails with a retriable `ProbeError`, and once it is
back the probe reads again, as the Redis client does by itself.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from decimal import Decimal
from types import TracebackType
from typing import Any, Literal, Self

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row
from pydantic import BaseModel, ConfigDict, Field, field_validator

from chaosbus.clients.redaction import MASK, redact_text
from chaosbus.injectors.limits import MAX_TEXT, ProbeTimeout
from chaosbus.monitors.errors import ProbeError
from chaosbus.monitors.extractors import to_number
from chaosbus.monitors.history import Effect, Number, Observation
from chaosbus.monitors.probes.kind import (
    OpenedReader,
    ProbeContext,
    ProbeKind,
    Shape,
    listing_reader,
    state_reader,
)
from chaosbus.monitors.probes.sql_role import write_privileges
from chaosbus.monitors.probes.sql_statement import select_problem

log = logging.getLogger(__name__)

ENTITY_PARAMETER = "%(entity)s"
_PARAMETERS = re.compile(r"%\((\w+)\)s")
_FALSE = (None, False, 0, "", "0", "f", "false")


class SqlProbeConfig(BaseModel):
    """`dsn` is a libpq connection string or URL; `query` one SELECT."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["sql"] = "sql"
    dsn: str = Field(min_length=1, repr=False)  # may hold a password
    query: str = Field(min_length=1, max_length=MAX_TEXT)
    deleted_column: str | None = None
    timeout_s: ProbeTimeout = 5.0
    # A role that can write is refused unless this says the file's owner accepts it.
    allow_writable_role: bool = False

    @field_validator("dsn")
    @classmethod
    def _a_dsn_that_parses(cls, value: str) -> str:
        # libpq's complaint quotes the text around the mistake: with a space in an unquoted
        # password, part of the password. Neither the DSN nor that complaint is shown.
        try:
            conninfo_to_dict(value)
        except psycopg.Error:
            raise ValueError(
                "does not parse as a libpq connection string or URL (not shown: it may hold "
                "a password); quote a value with spaces (password='a b') or percent-encode it "
                "in a URL (%20)"
            ) from None
        return value

    @field_validator("query")
    @classmethod
    def _only_the_entity_parameter(cls, value: str) -> str:
        others = sorted(set(_PARAMETERS.findall(value)) - {"entity"})
        if others:
            raise ValueError(f"the only parameter is %(entity)s, not {', '.join(others)}")
        problem = select_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @property
    def reads_effects(self) -> bool:
        return ENTITY_PARAMETER not in self.query


class SqlProbe:
    """`async with SqlProbe(config) as probe: await probe.observe(...)` (or `.effects`)."""

    def __init__(self, config: SqlProbeConfig) -> None:
        self.config = config
        self.unparsable = 0
        self._conn: psycopg.AsyncConnection[dict[str, Any]] | None = None
        self._open = False
        # One connection, one transaction at a time: two reads interleaving their
        # transactions on it fail ("transaction commit at the wrong nesting level").
        self._lock = asyncio.Lock()

    async def __aenter__(self) -> Self:
        self._conn = await self._connect()
        self._open = True
        return self

    async def _connect(self, *, retriable: bool = False) -> psycopg.AsyncConnection[dict[str, Any]]:
        timeout_ms = int(self.config.timeout_s * 1000)
        try:
            conn = await psycopg.AsyncConnection.connect(
                self.config.dsn,
                connect_timeout=max(1, int(self.config.timeout_s)),
                # Every transaction read-only, not only those psycopg begins itself.
                options=f"-c statement_timeout={timeout_ms} -c default_transaction_read_only=on",
                row_factory=dict_row,
            )
            await conn.set_read_only(True)
        except psycopg.Error as exc:
            message = f"PostgreSQL did not answer: {self._said(exc)}"
            raise ProbeError(message, retriable=retriable) from exc
        try:
            await self._judge_role(conn)
        except BaseException:
            await conn.close()
            raise
        return conn

    async def _judge_role(self, conn: psycopg.AsyncConnection[dict[str, Any]]) -> None:
        """Refuse a role that can write, unless the file allows it; then warn, every time."""
        try:
            writes = await write_privileges(conn)
        except psycopg.Error as exc:
            message = f"PostgreSQL: could not read the role's privileges: {self._said(exc)}"
            raise ProbeError(message) from exc
        if not writes:
            return
        role = conn.info.user
        what = "; ".join(writes)
        if not self.config.allow_writable_role:
            raise ProbeError(
                f"the sql probe's role {role!r} can write ({what}); give it a SELECT-only "
                "role (README, 'A SELECT-only role for the sql probe'), or set "
                "allow_writable_role: true on the probe"
            )
        log.warning(
            "THE SQL PROBE'S ROLE %r CAN WRITE (%s): allowed by allow_writable_role; only the "
            "one-SELECT rule and the read-only transaction stand between it and the "
            "service's data",
            role,
            what,
        )

    def _said(self, exc: BaseException) -> str:
        """The first line of a libpq error, with the DSN's password masked wherever it
        (or a word of it) appears: libpq quotes parts of the connection string back."""
        return scrub(_first_line(exc), _secret_words(self.config.dsn))

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._open = False
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def _connection(self) -> psycopg.AsyncConnection[dict[str, Any]]:
        """The open connection, opened again when the server dropped it."""
        if not self._open:
            raise ProbeError("SqlProbe used outside its 'async with' block")
        conn = self._conn
        if conn is None or conn.closed or conn.broken:
            if conn is not None:
                await conn.close()
            self._conn = None
            conn = self._conn = await self._connect(retriable=True)
        return conn

    async def observe(self, entities: Sequence[str], now_ms: int) -> list[Observation]:
        rows = await self._read([{"entity": entity} for entity in entities])
        observations = []
        for entity, found in zip(entities, rows, strict=True):
            readable, value = self._value(found[0] if found else None)
            if readable:
                observations.append(Observation(entity, now_ms, value))
        return observations

    async def effects(self, now_ms: int) -> list[Effect]:
        """One effect per row the query returns now, each seen at `now_ms`."""
        (rows,) = await self._read([None])
        effects = []
        for row in rows:
            first = next(iter(row.values()), None)
            if first is None:
                self.unparsable += 1
                continue
            effects.append(Effect(str(first), now_ms))
        return effects

    async def _read(self, params: list[dict[str, str] | None]) -> list[list[dict[str, Any]]]:
        results: list[list[dict[str, Any]]] = []
        async with self._lock:
            conn = await self._connection()
            await self._run(conn, params, results)
        return results

    async def _run(
        self,
        conn: psycopg.AsyncConnection[dict[str, Any]],
        params: list[dict[str, str] | None],
        results: list[list[dict[str, Any]]],
    ) -> None:
        try:
            async with conn.transaction():
                for bound in params:
                    cursor = await conn.execute(self.config.query, bound)
                    results.append(await cursor.fetchall())
        except psycopg.OperationalError as exc:
            raise ProbeError(f"PostgreSQL: {self._said(exc)}", retriable=True) from exc
        except psycopg.Error as exc:
            if conn.closed or conn.broken:  # dropped mid-read: the next read connects again
                raise ProbeError(f"PostgreSQL: {self._said(exc)}", retriable=True) from exc
            raise ProbeError(f"PostgreSQL could not run the query: {self._said(exc)}") from exc

    def _value(self, row: dict[str, Any] | None) -> tuple[bool, Number | None]:
        if row is None:
            return True, None
        marker = self.config.deleted_column
        if marker is not None:
            if marker not in row:
                raise ProbeError(f"the query returns no column {marker!r} (deleted_column)")
            if row[marker] not in _FALSE:
                return True, None
        raw = next(iter(row.values()))
        if raw is None:
            return True, None
        if isinstance(raw, Decimal):
            raw = int(raw) if raw == raw.to_integral_value() else float(raw)
        number = to_number(raw)
        if number is None:
            self.unparsable += 1
            return False, None
        return True, number


def _first_line(exc: BaseException) -> str:
    return redact_text((str(exc).strip().splitlines() or [type(exc).__name__])[0])


def _secret_words(dsn: str) -> tuple[str, ...]:
    """The DSN's password and each word of it (libpq quotes the word it stopped at)."""
    try:
        password = conninfo_to_dict(dsn).get("password")
    except psycopg.Error:
        return ()
    if not password:
        return ()
    return (str(password), *str(password).split())


def scrub(text: str, secrets: Sequence[str]) -> str:
    """`text` with every one of `secrets` replaced by `***`, the longest first."""
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, MASK)
    return text


def _shape(config: SqlProbeConfig) -> Shape:
    return "listing" if config.reads_effects else "state"


def _open(config: SqlProbeConfig, context: ProbeContext) -> OpenedReader:
    probe = SqlProbe(config)
    if config.reads_effects:
        return listing_reader(probe, from_now=context.from_now)
    return state_reader(probe)


KIND = ProbeKind(name="sql", config=SqlProbeConfig, shape=_shape, open=_open)
