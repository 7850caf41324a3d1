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

`--log-format json` (every long-running command: `proxy`, `http`, `run`, `demo`) prints the
same records as one JSON object per line (`JsonFormatter`): `time` (UTC, ISO 8601, ms),
`level`, `logger`, `message`, and every field the record carries in `extra` (the route's
actions, `chaosbus.streams.action_log`: action, route, fault, fault_name, payload_bytes,
timing_ms, trace_id, key, event_id…). Every string in it passes `redact_text`, so a URL
with a password never reaches a log line whatever logged it. `process_logging` is the
set-up of `proxy` and `http` (INFO unless `CHAOSBUS_LOG_LEVEL` says otherwise),
`console_logging` that of `run` and `demo`.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Literal

from aiokafka.errors import (
    IllegalGenerationError,
    KafkaError,
    RebalanceInProgressError,
    UnknownMemberIdError,
)

from chaosbus.clients.redaction import redact_text
from chaosbus.errors import InvalidInput

LogFormat = Literal["text", "json"]
LOG_FORMATS: tuple[LogFormat, ...] = ("text", "json")
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
    """A record as its message (a library's prefixed with its logger), URLs redacted."""

    def format(self, record: logging.LogRecord) -> str:
        # Redacted here too, as in JSON: a library may log a URL it was given.
        text = redact_text(super().format(record))
        return text if record.name.startswith("chaosbus") else f"{record.name}: {text}"


class RedactedFormatter(logging.Formatter):
    """A text line with every URL's password masked (the proxies' log)."""

    def format(self, record: logging.LogRecord) -> str:
        return redact_text(super().format(record))


class CurrentStderr(logging.Handler):
    """Writes to `sys.stderr` as it is at the time (a live display may have replaced it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:
            self.handleError(record)


# What every LogRecord has; anything else on a record came in through `extra`.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def _clean(value: object) -> object:
    """A field as JSON can carry it, every string redacted."""
    if isinstance(value, str):
        return redact_text(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_clean(v) for v in value]
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"  # a payload is never logged, only its size
    return redact_text(str(value))


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message and the record's extras."""

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created, tz=UTC)
        out: dict[str, object] = {
            "time": when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact_text(record.getMessage()),
        }
        for name, value in vars(record).items():
            if name not in _STANDARD and not name.startswith("_"):
                out[name] = _clean(value)
        if record.exc_info:
            out["exception"] = redact_text(self.formatException(record.exc_info))
        return json.dumps(out, ensure_ascii=False, separators=(",", ":"))


def log_format(text: str) -> LogFormat:
    """`--log-format` checked: text or json, else one line naming it (exit 2)."""
    for known in LOG_FORMATS:
        if text == known:
            return known
    raise InvalidInput(f"--log-format {text!r}: expected text or json")


def env_level(default: int) -> int:
    """`CHAOSBUS_LOG_LEVEL` as a level; `default` when unset, empty or not a level's name."""
    level = logging.getLevelName((os.environ.get(LEVEL_ENV) or "").upper())
    return level if isinstance(level, int) and os.environ.get(LEVEL_ENV) else default


def console_level() -> int:
    """`CHAOSBUS_LOG_LEVEL` as a level; WARNING when unset, empty or not a level's name."""
    return env_level(logging.WARNING)


@contextmanager
def _installed(handler: logging.Handler, root_level: int) -> Iterator[logging.Handler]:
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(root_level)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


@contextmanager
def console_logging(fmt: LogFormat = "text") -> Iterator[logging.Handler]:
    """Print log records on stderr by the rules above, until the block ends. JSON lines
    show INFO too unless `CHAOSBUS_LOG_LEVEL` says otherwise: they are read by machines."""
    level = env_level(logging.INFO) if fmt == "json" else console_level()
    handler = CurrentStderr()
    handler.addFilter(ConsoleFilter(level))
    handler.setFormatter(JsonFormatter() if fmt == "json" else ConsoleFormatter("%(message)s"))
    # The handler decides what is shown; the root lets through what it may have to lower.
    with _installed(handler, min(logging.getLogger().level, level, logging.WARNING)):
        yield handler


@contextmanager
def process_logging(fmt: LogFormat = "text") -> Iterator[logging.Handler]:
    """The log of a long-running proxy (`proxy`, `http`): INFO and above by default, as
    timestamped text lines or JSON objects."""
    level = env_level(logging.INFO)
    handler = CurrentStderr()
    handler.setLevel(level)
    text = RedactedFormatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    handler.setFormatter(JsonFormatter() if fmt == "json" else text)
    with _installed(handler, level):
        yield handler
