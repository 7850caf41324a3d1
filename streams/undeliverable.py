"""Messages the destination refuses: recognised, never resent forever, failed or dead-lettered.

A refusal is an answer about the record itself (too large for the topic, not authorised,
an invalid record), so sending it again cannot succeed. A route's `on_undeliverable` policy
says what happens then:

- `fail` (the default): the route stops with one line naming the source topic, partition and
  offset and the broker's reason; nothing at or past that offset is committed, so a restart
  after the cause is fixed delivers it.
- `dead_letter: TOPIC`: the original goes to TOPIC, byte for byte, with `chaosbus.*` headers
  saying where it came from and why; the ledger records the decision as `undeliverable`.

Sizes are checked before sending, against the destination's `max.message.bytes` and the
producer's `max_request_size`, so a large record is refused alone instead of failing the
batch of its innocent neighbours. When a batch still fails with a refusal (authorisation,
a limit the check could not know), its records are sent again one per batch to find the
guilty one.
"""

from __future__ import annotations

from aiokafka.errors import (
    CorruptRecordException,
    InvalidTopicError,
    MessageSizeTooLargeError,
    PolicyViolationError,
    RecordListTooLargeError,
    TopicAuthorizationFailedError,
)

from chaosbus.contracts.ledger_record import UNDELIVERABLE
from chaosbus.injectors.envelope import Envelope
from chaosbus.streams.errors import StreamError

__all__ = [
    "UNDELIVERABLE",
    "RouteFailed",
    "dead_letter_headers",
    "failure_line",
    "is_refusal",
    "reason_of",
    "record_bytes",
    "too_large",
]

REFUSALS: tuple[type[BaseException], ...] = (
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    TopicAuthorizationFailedError,
    CorruptRecordException,
    InvalidTopicError,
    PolicyViolationError,
)

# A record batch's header is 61 bytes; a record adds varint lengths and attributes. Kept
# generous: a record the estimate lets through by a few bytes is still caught by the broker.
BATCH_OVERHEAD = 61
RECORD_OVERHEAD = 40


class RouteFailed(StreamError):
    """A route stopped because its destination refused a message (policy `fail`)."""


def is_refusal(exc: BaseException | None) -> bool:
    return isinstance(exc, REFUSALS)


def reason_of(exc: BaseException) -> str:
    """The broker's reason in a few words: its error name, else the exception's text."""
    name = getattr(exc, "message", None)
    if isinstance(name, str) and name:
        return name
    return f"{type(exc).__name__}: {exc}"


def record_bytes(envelope: Envelope, headers: list[tuple[str, bytes | None]] | None = None) -> int:
    """The size of a batch carrying only this record, as the broker measures it (about)."""
    chosen = envelope.headers if headers is None else headers
    size = BATCH_OVERHEAD + RECORD_OVERHEAD
    size += len(envelope.key or b"") + len(envelope.value or b"")
    for name, value in chosen:
        size += len(name) + len(value or b"") + 10
    return size


def too_large(size: int, limit: int) -> str:
    return f"MESSAGE_TOO_LARGE: {size} bytes over the destination's limit of {limit}"


def failure_line(route: str, envelope: Envelope, destination: str, reason: str) -> str:
    source = envelope.source
    return (
        f"route {route}: {destination} refused the message at {source.topic} partition "
        f"{source.partition} offset {source.offset}: {reason}; nothing past it is committed "
        "(fix the destination, or set on_undeliverable: {dead_letter: TOPIC})"
    )


def dead_letter_headers(
    envelope: Envelope, destination: str, reason: str
) -> list[tuple[str, bytes | None]]:
    """The original headers, then where the message came from and why it is here."""
    source = envelope.source
    return [
        *envelope.headers,
        ("chaosbus.undeliverable.reason", reason.encode()),
        ("chaosbus.undeliverable.destination", destination.encode()),
        ("chaosbus.source.topic", source.topic.encode()),
        ("chaosbus.source.partition", str(source.partition).encode()),
        ("chaosbus.source.offset", str(source.offset).encode()),
    ]
