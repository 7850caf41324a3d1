"""Errors of the app shell, each carrying the exit code the CLI documents.

    ChaosbusError                 any failure the CLI turns into one line and an exit code
    ├── InvalidInput        (2)   a broken file, a bad flag, an unknown topic
    │   ├── PrerequisiteMissing   java, mvn or redis-server absent or too old
    │   ├── Unreachable           a broker or Redis that does not answer
    │   └── RouteStopped          a destination refused a message (on_undeliverable: fail)
    ├── Aborted             (3)   a guardrail, the kill switch or a signal stopped a run
    └── StackError          (2)   the local stack failed to start or stop

A verdict is not an error: `run` and `check` exit with their report's status code, 0 held,
1 violated, 2 error (nothing judged), 3 aborted, 4 inconclusive (`EXIT_INCONCLUSIVE`);
`run --fail-on-regression` exits 5 (`EXIT_REGRESSION`) when it held but regressed.

Errors of the layers below (injectors, streams, monitors) are translated at the CLI
boundary with `raise ... from exc`, so a user always sees which input was wrong.
"""

from __future__ import annotations

EXIT_HELD = 0
EXIT_VIOLATED = 1
EXIT_INVALID = 2
EXIT_ABORTED = 3
EXIT_INCONCLUSIVE = 4  # too little of the source was judged for a verdict (`run`, `check`)
# `--fail-on-regression`: the hypothesis held, but the run is worse than its baseline
# (`chaosbus.history.gate`). A verdict that did not hold keeps its own code.
EXIT_REGRESSION = 5


class ChaosbusError(Exception):
    exit_code = EXIT_INVALID


class InvalidInput(ChaosbusError):
    exit_code = EXIT_INVALID


class PrerequisiteMissing(InvalidInput):
    pass


class Unreachable(InvalidInput):
    pass


class RouteStopped(InvalidInput):
    pass


class StackError(ChaosbusError):
    exit_code = EXIT_INVALID


class Aborted(ChaosbusError):
    exit_code = EXIT_ABORTED
