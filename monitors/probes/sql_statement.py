"""What query the SQL probe will run at all: one plain SELECT, told by PostgreSQL's own parser.

A read-only transaction is an attribute of the transaction, not of the text: with
`select …; commit; delete …` the `commit` ends it and the `delete` runs in the next one
(issue 21, reproduction 6). So the query is parsed with pglast, which is PostgreSQL's parser
(libpg_query) as a library, and refused unless it is exactly one statement that is a
`SELECT` without anything in it that writes:

- a data-modifying `WITH` (`with d as (delete … returning …) select …`);
- `SELECT … INTO` (creates a table);
- a locking clause (`FOR UPDATE`/`FOR SHARE`: takes row locks the service then waits on).

Pattern matching could not tell a `;` in a string literal from one between statements, nor
a `delete` in a column name from one in a CTE. What a SELECT can still do through a
function (`dblink`, a SECURITY DEFINER function, `nextval`) is the role's to forbid: the
probe checks at connect that its role cannot write (`sql_role`). Pure: text in, a reason out.
"""

from __future__ import annotations

import re

from pglast import ast, parse_sql
from pglast.parser import ParseError
from pglast.visitors import Visitor

_PARAMETER = re.compile(r"%\((\w+)\)s")
_WRITES = (ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt, ast.MergeStmt)


def select_problem(query: str) -> str | None:
    """Why `query` is not one plain SELECT the probe may run, or None."""
    # psycopg's placeholders are not SQL: `%(entity)s` becomes a parameter `$1`, `%%` a `%`.
    sql = _PARAMETER.sub("$1", query).replace("%%", "%")
    try:
        statements = parse_sql(sql)
    except ParseError as exc:
        return f"does not parse as PostgreSQL: {exc}"
    if not statements:
        return "holds no statement"
    if len(statements) != 1:
        return (
            f"must be one statement, not {len(statements)}: a second one (after `commit`) "
            "would run outside the read-only transaction"
        )
    statement = statements[0].stmt
    if not isinstance(statement, ast.SelectStmt):
        return f"must be a SELECT, not {_kind(statement)}"
    found = _Found()
    found(statements[0])
    return found.problems[0] if found.problems else None


class _Found(Visitor):
    """What in a SELECT, at any depth (a CTE, a subquery, a UNION's side), would write."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []

    def visit(self, ancestors: object, node: object) -> None:
        if isinstance(node, _WRITES):
            self.problems.append(f"must not modify data: it holds {_kind(node)} (in a WITH)")
        elif isinstance(node, ast.SelectStmt):
            if node.intoClause:
                self.problems.append("must not be SELECT … INTO (it creates a table)")
            if node.lockingClause:
                self.problems.append(
                    "must not lock rows (FOR UPDATE / FOR SHARE): the service would wait on them"
                )


def _kind(node: object) -> str:
    """`CreateStmt` → `CREATE`, `CopyStmt` → `COPY`: what a person calls the statement."""
    name = type(node).__name__.removesuffix("Stmt")
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name).upper() or "an unknown statement"
