"""The SQL probe's pure parts: what is shown of a libpq error, and (issue 21) what query it
will run at all."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from chaosbus.monitors.probes.sql_probe import SqlProbeConfig, _secret_words, scrub
from chaosbus.monitors.probes.sql_role import describe
from chaosbus.monitors.probes.sql_statement import select_problem


class TestScrub:
    def test_the_password_and_each_of_its_words_are_masked(self) -> None:
        """libpq quotes the word it stopped at; every word of the password is masked."""
        words = _secret_words("host=h user=u password='Pw s3cret'")
        line = 'FATAL: password "Pw s3cret" for "u"; near "s3cret"'
        assert scrub(line, words) == 'FATAL: password "***" for "u"; near "***"'

    def test_no_password_nothing_masked(self) -> None:
        """A DSN without a password (trust, a .pgpass file) leaves the line as it is."""
        assert scrub("could not connect", _secret_words("postgresql://u@h/db")) == (
            "could not connect"
        )


class TestOneSelect:
    """Issue 21, reproduction 6: the query is parsed by PostgreSQL's grammar (pglast)."""

    @pytest.mark.parametrize(
        ("query", "says"),
        [
            (
                "select event_id from effects; commit; delete from orders where id='o2'",
                "must be one statement, not 3",
            ),
            ("create table stolen (a int)", "must be a SELECT, not CREATE"),
            ("copy (select 1) to program 'id'", "must be a SELECT, not COPY"),
            ("delete from orders", "must be a SELECT, not DELETE"),
            ("with d as (delete from t returning id) select id from d", "holds DELETE"),
            ("select * from (select 1 from t for update) s", "must not lock rows"),
            ("select 1 union (select 2 into z)", "SELECT … INTO"),
            ("-- nothing", "holds no statement"),
            ("select from where", "does not parse as PostgreSQL"),
        ],
    )
    def test_refused(self, query: str, says: str) -> None:
        """Each way a query could write or hide a second statement is named."""
        problem = select_problem(query)
        assert problem is not None
        assert says in problem

    @pytest.mark.parametrize(
        "query",
        [
            "select version, deleted from orders where id = %(entity)s",
            "select ';delete from t' as x from effects",  # a `;` in a literal is no statement
            "select \"delete\" from effects where note like 'a%%'",
            "with e as (select event_id from effects) select event_id from e",
        ],
    )
    def test_accepted(self, query: str) -> None:
        """Plain SELECTs, whatever their literals and identifiers hold."""
        assert select_problem(query) is None

    def test_the_file_refuses_it_with_its_path(self) -> None:
        """The config model says it at `query`, so a file names the path."""
        with pytest.raises(ValidationError, match="must be a SELECT, not CREATE"):
            SqlProbeConfig(dsn="dbname=d", query="create table x (a int)")

    @pytest.mark.parametrize("timeout", [float("inf"), float("nan"), 1e9, 0])
    def test_timeouts_are_finite_and_bounded(self, timeout: float) -> None:
        """`.inf` became an OverflowError at connect; now the file is refused."""
        with pytest.raises(ValidationError):
            SqlProbeConfig(dsn="dbname=d", query="select 1", timeout_s=timeout)


class TestDescribe:
    def test_sentences(self) -> None:
        """A role's write privileges, one sentence each, three names at most."""
        rows = [
            ("is a superuser", 1, ["app"]),
            ("may INSERT, UPDATE, DELETE or TRUNCATE", 4, ["a.t", "a.u", "a.v"]),
        ]
        assert describe(rows) == [
            "is a superuser",
            "may INSERT, UPDATE, DELETE or TRUNCATE (a.t, a.u, a.v, …)",
        ]
