"""The ledger book: an open entry per decided source message until its emissions are sent.

A record is complete when every planned emission has a broker acknowledgement (partition and
offset); a drop is complete at once. Completed records are written to `chaosbus.ledger` by
the interposer, and only once that write is acknowledged may the source offset be committed,
so that a crash never leaves a forwarded message without its ledger record.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

from injectors.envelope import SourceCoordinates
from streams.ledger_record import UNDELIVERABLE, EmissionTuple, encode_record


@dataclass(frozen=True, slots=True)
class CompletedRecord:
    """A ledger record ready to write: its source, its Kafka key and its JSON bytes."""

    source: SourceCoordinates
    key: bytes | None
    payload: bytes


@dataclass(slots=True)
class _OpenEntry:
    key: bytes | None
    event_id: str
    fault: str
    reason: str | None
    decided_at_ms: int
    expected: int
    fault_name: str | None = None
    source_timestamp_ms: int | None = None
    trace_id: str | None = None
    sent: list[EmissionTuple] = field(default_factory=list)
    # Copies the destination refused and the dead-letter topic took instead.
    undelivered: int = 0
    undelivered_reason: str | None = None

    @property
    def resolved(self) -> int:
        return len(self.sent) + self.undelivered


def pseudonym(salt: bytes, value: bytes) -> str:
    """A keyed hash of an identifier: stable within a run (one salt), unlinkable across
    runs and not reversible by guessing once the salt is gone."""
    return "h-" + hmac.new(salt, value, hashlib.sha256).hexdigest()[:24]


class LedgerBook:
    """Decisions waiting for their emissions' acknowledgements.

    With a `salt`, keys and event ids are written as `pseudonym`s, never in clear."""

    def __init__(self, *, run_id: str, route: str, salt: bytes | None = None) -> None:
        self.run_id = run_id
        self.route = route
        self.salt = salt
        self._open: dict[SourceCoordinates, _OpenEntry] = {}

    def __len__(self) -> int:
        return len(self._open)

    def open(
        self,
        source: SourceCoordinates,
        *,
        key: bytes | None,
        event_id: str,
        fault: str,
        reason: str | None,
        expected: int,
        now_ms: int,
        fault_name: str | None = None,
        source_timestamp_ms: int | None = None,
        trace_id: str | None = None,
    ) -> CompletedRecord | None:
        """Start an entry; a decision with nothing to send (a drop) completes at once."""
        if self.salt is not None:
            key = None if key is None else pseudonym(self.salt, key).encode("ascii")
            event_id = pseudonym(self.salt, event_id.encode("utf-8"))
        entry = _OpenEntry(
            key,
            event_id,
            fault,
            reason,
            now_ms,
            expected,
            fault_name,
            source_timestamp_ms,
            trace_id,
        )
        if expected == 0:
            return self._complete(source, entry, now_ms)
        self._open[source] = entry
        return None

    def sent(
        self,
        source: SourceCoordinates,
        *,
        copy_number: int,
        planned_delay_ms: int,
        partition: int,
        offset: int,
        now_ms: int,
        variant: str | None = None,
    ) -> CompletedRecord | None:
        """Note one acknowledged emission; returns the record once the last one is in."""
        entry = self._open[source]
        entry.sent.append((copy_number, planned_delay_ms, partition, offset, now_ms, variant))
        return self._resolved(source, entry, now_ms)

    def undelivered(
        self, source: SourceCoordinates, *, reason: str, now_ms: int
    ) -> CompletedRecord | None:
        """One copy the destination refused went to the dead-letter topic instead.

        The record's fault becomes `undeliverable`; its reason says why and what had been
        decided; its emissions are the copies that did reach the destination.
        """
        entry = self._open[source]
        entry.undelivered += 1
        entry.undelivered_reason = reason
        return self._resolved(source, entry, now_ms)

    def _resolved(
        self, source: SourceCoordinates, entry: _OpenEntry, now_ms: int
    ) -> CompletedRecord | None:
        if entry.resolved < entry.expected:
            return None
        del self._open[source]
        return self._complete(source, entry, now_ms)

    def _complete(
        self, source: SourceCoordinates, entry: _OpenEntry, now_ms: int
    ) -> CompletedRecord:
        payload = encode_record(
            run_id=self.run_id,
            route=self.route,
            topic=source.topic,
            partition=source.partition,
            offset=source.offset,
            event_id=entry.event_id,
            key=entry.key,
            fault=UNDELIVERABLE if entry.undelivered else entry.fault,
            reason=(
                f"{entry.undelivered_reason}; decided {entry.fault}"
                if entry.undelivered
                else entry.reason
            ),
            emissions=entry.sent,
            decided_at_ms=entry.decided_at_ms,
            completed_at_ms=now_ms,
            fault_name=entry.fault_name,
            source_timestamp_ms=entry.source_timestamp_ms,
            trace_id=entry.trace_id,
        )
        return CompletedRecord(source, entry.key, payload)
