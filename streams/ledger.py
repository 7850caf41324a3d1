"""The ledger book: an open entry per decided source message until its emissions are sent.

A record is complete when every planned emission has a broker acknowledgement (partition and
offset); a drop is complete at once. The book keeps completed entries until the interposer
takes them (`take_completed`, once per turn) to write them to `chaosbus.ledger`; only once
that write is acknowledged may the source offsets a record covers be committed, so that a
crash never leaves a forwarded message without its ledger record.

Taken together, a source partition's consecutive passes become one compact record
(`completed_records`, shared with exactly-once mode); every other decision is one record.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from chaosbus.contracts.ledger_record import (
    UNDELIVERABLE,
    EmissionTuple,
    encode_pass_run,
    encode_record,
)
from chaosbus.injectors.envelope import Emission, SourceCoordinates

# A compact record's estimated size bound: well under the broker's default 1 MiB message
# limit and the producer's batch size, whatever the keys weigh.
RUN_MAX_BYTES = 128 * 1024
# What one entry of a run costs besides its key and event id (its numbers, about).
_RUN_ENTRY_BYTES = 48


@dataclass(frozen=True, slots=True)
class CompletedRecord:
    """A ledger payload ready to write, its Kafka key, and every source it covers."""

    sources: tuple[SourceCoordinates, ...]
    key: bytes
    payload: bytes


@dataclass(slots=True)
class LedgerEntry:
    """One decision on its way to the ledger: open until every planned copy is resolved."""

    source: SourceCoordinates
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
    completed_at_ms: int = 0

    @property
    def resolved(self) -> int:
        return len(self.sent) + self.undelivered


def pseudonym(salt: bytes, value: bytes) -> str:
    """A keyed hash of an identifier: stable within a run (one salt), unlinkable across
    runs and not reversible by guessing once the salt is gone."""
    return "h-" + hmac.new(salt, value, hashlib.sha256).hexdigest()[:24]


def ledger_key(route: str, partition: int) -> bytes:
    """The Kafka key of a route's ledger records of one source partition: they stay in one
    ledger partition, in order, so a re-decided message's later record comes later."""
    return f"{route}/{partition}".encode()


class LedgerBook:
    """Decisions waiting for their emissions' acknowledgements, and completed ones waiting
    to be written.

    With a `salt`, keys and event ids are written as `pseudonym`s, never in clear."""

    def __init__(self, *, run_id: str, route: str, salt: bytes | None = None) -> None:
        self.run_id = run_id
        self.route = route
        self.salt = salt
        # Keyed by the coordinates as a plain tuple: hashed in C, where the frozen
        # dataclass's generated `__hash__` is a Python call, twice per message.
        self._open: dict[tuple[str, int, int], LedgerEntry] = {}
        self._completed: list[LedgerEntry] = []

    def __len__(self) -> int:
        """Entries still open (waiting for acknowledgements)."""
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
    ) -> None:
        """Start an entry; a decision with nothing to send (a drop) completes at once."""
        if self.salt is not None:
            key = None if key is None else pseudonym(self.salt, key).encode("ascii")
            event_id = pseudonym(self.salt, event_id.encode("utf-8"))
        entry = LedgerEntry(
            source,
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
            entry.completed_at_ms = now_ms
            self._completed.append(entry)
            return
        self._open[(source.topic, source.partition, source.offset)] = entry

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
    ) -> None:
        """Note one acknowledged emission; the entry completes once the last one is in."""
        key = (source.topic, source.partition, source.offset)
        entry = self._open[key]
        entry.sent.append((copy_number, planned_delay_ms, partition, offset, now_ms, variant))
        self._resolved(key, entry, now_ms)

    def sent_all(
        self, emissions: Sequence[Emission], *, partition: int, base_offset: int, now_ms: int
    ) -> None:
        """`sent` for a producer batch: the i-th emission landed at `base_offset + i`."""
        open_entries, completed = self._open, self._completed
        for offset, emission in enumerate(emissions, base_offset):
            source = emission.envelope.source
            key = (source.topic, source.partition, source.offset)
            entry = open_entries[key]
            sent = entry.sent
            sent.append(
                (
                    emission.copy,
                    emission.planned_delay_ms,
                    partition,
                    offset,
                    now_ms,
                    emission.variant,
                )
            )
            if len(sent) + entry.undelivered >= entry.expected:
                del open_entries[key]
                entry.completed_at_ms = now_ms
                completed.append(entry)

    def undelivered(self, source: SourceCoordinates, *, reason: str, now_ms: int) -> None:
        """One copy the destination refused went to the dead-letter topic instead.

        The record's fault becomes `undeliverable`; its reason says why and what had been
        decided; its emissions are the copies that did reach the destination.
        """
        key = (source.topic, source.partition, source.offset)
        entry = self._open[key]
        entry.undelivered += 1
        entry.undelivered_reason = reason
        self._resolved(key, entry, now_ms)

    def take_completed(self) -> list[CompletedRecord]:
        """The records of every entry completed since the last call, passes compacted."""
        if not self._completed:
            return []
        done, self._completed = self._completed, []
        return completed_records(done, run_id=self.run_id, route=self.route)

    def _resolved(self, key: tuple[str, int, int], entry: LedgerEntry, now_ms: int) -> None:
        if entry.resolved < entry.expected:
            return
        del self._open[key]
        entry.completed_at_ms = now_ms
        self._completed.append(entry)


def completed_records(
    entries: Iterable[LedgerEntry], *, run_id: str, route: str
) -> list[CompletedRecord]:
    """The ledger records of completed entries, in their order within each source partition.

    Consecutive passes of one partition (offsets n, n+1, …, each one copy at consecutive
    offsets of one destination partition) share one compact record; a lone pass and every
    other decision get one record each.
    """
    by_partition: dict[tuple[str, int], list[LedgerEntry]] = {}
    for entry in entries:
        by_partition.setdefault((entry.source.topic, entry.source.partition), []).append(entry)
    records: list[CompletedRecord] = []
    for (_, partition), group in by_partition.items():
        key = ledger_key(route, partition)
        run: list[LedgerEntry] = []
        size = 0
        # Where the next entry of the current run must be: source offset, destination.
        next_offset, next_out = -1, (-1, -1)
        for entry in group:
            out = _single_copy(entry.fault, entry.undelivered, entry.sent)
            if out is None:
                _flush(run, key, run_id, route, records)
                run = []
                records.append(_record(entry, key, run_id, route))
                continue
            cost = _RUN_ENTRY_BYTES + len(entry.event_id) + 2 * len(entry.key or b"")
            offset = entry.source.offset
            if offset == next_offset and out == next_out and size + cost <= RUN_MAX_BYTES:
                run.append(entry)
                size += cost
            else:
                _flush(run, key, run_id, route, records)
                run, size = [entry], cost
            next_offset, next_out = offset + 1, (out[0], out[1] + 1)
        _flush(run, key, run_id, route, records)
    return records


def _single_copy(fault: str, undelivered: int, sent: list[EmissionTuple]) -> tuple[int, int] | None:
    """Where a pass's one copy (copy 0) landed, (partition, offset); None for anything else:
    another fault, more or fewer copies, a dead letter, an unknown destination offset.
    (Given the entry's fields, not the entry: this runs once per message ledgered.)"""
    if fault != "pass" or undelivered or len(sent) != 1:
        return None
    copy_number, _, partition, offset, sent_at, _ = sent[0]
    if copy_number or partition is None or offset is None or sent_at is None:
        return None
    return partition, offset


def _flush(
    run: list[LedgerEntry], key: bytes, run_id: str, route: str, records: list[CompletedRecord]
) -> None:
    if len(run) == 1:
        records.append(_record(run[0], key, run_id, route))
    elif run:
        records.append(_pass_run(run, key, run_id, route))


def _pass_run(run: list[LedgerEntry], key: bytes, run_id: str, route: str) -> CompletedRecord:
    first = run[0]
    _, _, out_partition, out_offset, _, _ = first.sent[0]
    assert out_partition is not None  # see _single_copy
    assert out_offset is not None
    copies = [entry.sent[0] for entry in run]
    payload = encode_pass_run(
        run_id=run_id,
        route=route,
        topic=first.source.topic,
        partition=first.source.partition,
        offset=first.source.offset,
        out_partition=out_partition,
        out_offset=out_offset,
        event_ids=[entry.event_id for entry in run],
        keys=[entry.key for entry in run],
        reasons=[entry.reason for entry in run],
        fault_names=[entry.fault_name for entry in run],
        planned_delays_ms=[copy[1] for copy in copies],
        variants=[copy[5] for copy in copies],
        decided_at_ms=[entry.decided_at_ms for entry in run],
        sent_at_ms=[copy[4] or 0 for copy in copies],
        completed_at_ms=[entry.completed_at_ms for entry in run],
        source_timestamps_ms=[entry.source_timestamp_ms for entry in run],
        trace_ids=[entry.trace_id for entry in run],
    )
    return CompletedRecord(tuple(entry.source for entry in run), key, payload)


def _record(entry: LedgerEntry, key: bytes, run_id: str, route: str) -> CompletedRecord:
    source = entry.source
    payload = encode_record(
        run_id=run_id,
        route=route,
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
        completed_at_ms=entry.completed_at_ms,
        fault_name=entry.fault_name,
        source_timestamp_ms=entry.source_timestamp_ms,
        trace_id=entry.trace_id,
    )
    return CompletedRecord((source,), key, payload)
