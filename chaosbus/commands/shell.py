"""What every command shares besides its options: a failure is one line and an exit code."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

import typer

from chaosbus.errors import EXIT_INVALID, ChaosbusError

P = ParamSpec("P")
R = TypeVar("R")


def fail(message: str, code: int = EXIT_INVALID) -> typer.Exit:
    """Print `chaosbus: MESSAGE` on stderr; the caller raises the returned exit."""
    typer.echo(f"chaosbus: {message}", err=True)
    return typer.Exit(code)


def one_line_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn every ChaosbusError into one line on stderr and its documented exit code."""

    @wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except ChaosbusError as exc:
            raise fail(str(exc), exc.exit_code) from exc

    return wrapper
