"""Errors raised by the pure fault model.

One hierarchy, so a caller can catch everything from this package with one clause::

    InjectorError                  base of every error raised by `injectors`
    ├── SpecError                  a fault document is invalid; `.problems` has one line each
    ├── ProtectedTopicError        a route touches a protected topic while faults are declared
    └── LocatedError               one problem at a path, raised inside a model validator
                                   (`validation`)

`LocatedError` is also a `ValueError`: pydantic collects a `ValueError` raised in a validator
as one problem of the document, and the parsers wrap it into a `SpecError` before it leaves
the package.

Errors from the layers below (PyYAML, pydantic) are translated at the boundary with
``raise ... from exc`` so callers never need to import those libraries to handle them.
"""

from __future__ import annotations

from collections.abc import Iterable


class InjectorError(Exception):
    """Base class for every error raised by the fault model."""


class SpecError(InjectorError):
    """A fault document failed to parse or validate.

    `problems` lists one human-readable line per problem, each starting with the path of
    the offending value, e.g. ``faults[1].distribution.max_ms: must be ≥ min_ms``.
    """

    def __init__(self, problems: Iterable[str], origin: str | None = None) -> None:
        self.problems: list[str] = list(problems)
        self.origin = origin
        where = f"{origin}: " if origin else ""
        count = len(self.problems)
        header = f"{where}{count} problem{'s' if count != 1 else ''} in fault specification"
        super().__init__("\n  ".join([header, *self.problems]))


class ProtectedTopicError(InjectorError):
    """A route reads or writes a topic that the blast radius declares protected."""

    def __init__(self, route: tuple[str, str], topic: str, glob: str) -> None:
        self.route = route
        self.topic = topic
        self.glob = glob
        source, destination = route
        super().__init__(
            f"route {source} -> {destination}: topic {topic!r} matches protected glob "
            f"{glob!r}; faults may not run on a protected topic"
        )
