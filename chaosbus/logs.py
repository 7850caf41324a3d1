"""Log records on the console of `run` and `demo`: what the user must act on, nothing else.

Without a handler, Python prints every record of WARNING and above to stderr as its bare
message, so a Kafka client's routine complaints landed between the progress lines:
`Group Coordinator Request failed: [Error 15] GroupCoordinatorNotAvailableError` while a
consumer group forms, although the client retries and nothing is wrong. Inside
`console_logging()`:

- a Kafka client record that is *expected* (`expected_noise`) is lowered to DEBUG: one
  that carries an error the client retries itself (`retriable`) or recovers from by
  rejoining its group (`REJOIN_ERRORS`), or one of aiokafka's group-membership messages
  that carry no error object (`MEMBERSHIP_MESSAGES`). What the user must act on (a refused
  credential, a missing topic) is raised to chaosbus, which says it in one line;
- a chaosbus record is printed as its message (they are written for the user), another
  library's as `logger: message`;
- a chaosbus warning about the same thing as one already printed (the same logger, message
  template and first argument when it is a name: a probe failing on every poll, a topic
  read again and again) is printed once; the repeats go to DEBUG;
- `CHAOSBUS_LOG_LEVEL` (DEBUG, INFO, WARNING…; default WARNING) sets what is printed:
  DEBUG shows the lowered records too.

Records go to whatever `sys.stderr` is when they are emitted: on a terminal, rich's live
progress line redirects it, and prints them above the line instead of through it.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from aiokafka.errors import (
    IllegalGenerationError,
    KafkaError,
    RebalanceInProgressError,
    UnknownMemberIdError,
)

LEVEL_ENV = "CHAOSBUS_LOG_LEVEL"
KAFKA_LOGGERS = ("aiokafka", "kafka")
# Not `retriable` by aiokafka's flag, but the group coordinator answers each by rejoining.
REJOIN_ERRORS: tuple[type[KafkaError], ...] = (
    RebalanceInProgressError,
    UnknownMemberIdError,
    IllegalGenerationError,
)
# aiokafka's group coordinator says these without the error object; each is followed by
# the client finding the coordinator again or rejoining.
MEMBERSHIP_MESSAGES = ("Heartbeat failed", "Marking the coordinator dead")


def _recovered_by_client(arg: object) -> bool:
    error = arg if isinstance(arg, type) else type(arg)
    if not issubclass(error, KafkaError):
        return False
    retriable = getattr(arg, "retriable", False)
    return bool(retriable) or issubclass(error, REJOIN_ERRORS)


def expected_noise(record: logging.LogRecord) -> bool:
    """Whether a Kafka client's record says something the client handles by itself."""
    if not record.name.startswith(KAFKA_LOGGERS):
        return False
    if isinstance(record.msg, str) and record.msg.startswith(MEMBERSHIP_MESSAGES):
        return True
    args = record.args if isinstance(record.args, tuple) else ()
    return any(_recovered_by_client(arg) for arg in args)


def _about(record: logging.LogRecord) -> tuple[str, object, str | None]:
    """What a warning is about: its logger, its template and its first argument if a name
    (the rest, an error's text, may differ from one poll to the next)."""
    args = record.args if isinstance(record.args, tuple) else ()
    first = args[0] if args and isinstance(args[0], str) else None
    return record.name, record.msg, first


def _lower(record: logging.LogRecord) -> None:
    record.levelno, record.levelname = logging.DEBUG, "DEBUG"


class ConsoleFilter(logging.Filter):
    """Lowers expected library noise and repeated chaosbus warnings, then applies `level`."""

    def __init__(self, level: int) -> None:
        super().__init__()
        self.level = level
        self._said: set[tuple[str, object, str | None]] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if expected_noise(record):
            _lower(record)
        elif record.name.startswith("chaosbus") and record.levelno >= logging.WARNING:
            about = _about(record)
            if about in self._said:
                _lower(record)
            self._said.add(about)
        return record.levelno >= self.level


class ConsoleFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        return text if record.name.startswith("chaosbus") else f"{record.name}: {text}"


class CurrentStderr(logging.Handler):
    """Writes to `sys.stderr` as it is at the time (a live display may have replaced it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:
            self.handleError(record)


def console_level() -> int:
    """`CHAOSBUS_LOG_LEVEL` as a level; WARNING when unset, empty or not a level's name."""
    level = logging.getLevelName((os.environ.get(LEVEL_ENV) or "WARNING").upper())
    return level if isinstance(level, int) else logging.WARNING


@contextmanager
def console_logging() -> Iterator[logging.Handler]:
    """Print log records on stderr by the rules above, until the block ends."""
    level = console_level()
    handler = CurrentStderr()
    handler.addFilter(ConsoleFilter(level))
    handler.setFormatter(ConsoleFormatter("%(message)s"))
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    # The handler decides what is shown; the root lets through what it may have to lower.
    root.setLevel(min(previous, level, logging.WARNING))
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
