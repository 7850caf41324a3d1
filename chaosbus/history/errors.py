"""Errors of the run history: each one line and exit 2 wherever the history is required.

    HistoryError (InvalidInput, 2)   anything about the history
    ├── HistoryUnavailable           the store cannot be opened: an unreachable or
    │                                unauthorised PostgreSQL, an unwritable SQLite path
    ├── NotAHistory                  a corrupt SQLite file, or a database of something else
    ├── SchemaTooNew                 written by a newer chaosbus than this one
    ├── UnknownRun                   no run of that id in the history
    └── NotComparable                a baseline of another experiment

Recording a run never raises one of these to the user: `run`, `check` and `demo` say one
line on stderr and keep their verdict's exit code (`history.recorder`). Reading the
history (`history`, `rerun`, a `--baseline`) is refused with the line and exit 2.
"""

from __future__ import annotations

from chaosbus.errors import InvalidInput


class HistoryError(InvalidInput):
    pass


class HistoryUnavailable(HistoryError):
    pass


class NotAHistory(HistoryError):
    pass


class SchemaTooNew(HistoryError):
    pass


class UnknownRun(HistoryError):
    pass


class NotComparable(HistoryError):
    pass
