"""Recording a run: beside the verdict, never in its way.

    run / check / demo ─► FactsKept (RunOptions.on_facts, check_window's on_facts)
                       └► record(location, StoredRun) ─► open, migrate, append ─► True
                                      │
                                      └─ any failure: one line on stderr, False; the
                                         caller's exit code stays the verdict's

The history is a store beside the control plane: a verdict never waits for it or depends
on it. `None` as the location is `--no-history`.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from chaosbus.errors import ChaosbusError
from chaosbus.history.connect import open_history
from chaosbus.history.entry import StoredRun
from chaosbus.history.location import Location
from chaosbus.runner.facts import RunFacts

log = logging.getLogger(__name__)


class FactsKept:
    """An `on_facts` that keeps what it is given: the facts of the run just made."""

    def __init__(self) -> None:
        self.facts: RunFacts | None = None

    def __call__(self, facts: RunFacts) -> None:
        self.facts = facts


def one_line(exc: Exception) -> str:
    if isinstance(exc, ChaosbusError):
        return str(exc)
    first = next((line for line in str(exc).splitlines() if line.strip()), "")
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def _stderr(line: str) -> None:
    print(line, file=sys.stderr)


def record(
    location: Location | None, run: StoredRun, *, warn: Callable[[str], None] = _stderr
) -> bool:
    """Append `run` to the history at `location`; False (and one line) when it could not be."""
    if location is None:
        return False
    try:
        with open_history(location) as store:
            store.append(run)
    except Exception as exc:  # a history, even a broken one, never costs a verdict
        log.debug("history not written", exc_info=True)
        warn(f"chaosbus: history not written: {one_line(exc)}")
        return False
    return True
