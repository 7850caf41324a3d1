"""The parked record: everything still owed for one source message, durable in Kafka.

One record per source message (key: its coordinates), not one per copy, because the ledger
record of a message is written once, by the transaction that sends its last copy, and must
then know the destination offsets of the copies sent by earlier transactions. Keeping them
in one value means every transaction rewrites exactly one key per touched message, and a
completed message is a tombstone. Pure: no I/O here.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chaosbus.contracts.ledger_record import LedgerEmission, decode_key, encode_key
from chaosbus.injectors.envelope import Emission, Envelope, SourceCoordinates
from chaosbus.injectors.protection import PARKED_PREFIX
from chaosbus.streams.errors import StreamError
from chaosbus.streams.ledger import LedgerEntry, pseudonym
from chaosbus.streams.telemetry import trace_id_of

PARKED_SCHEMA_VERSION = 1


class ParkedUnreadable(StreamError):
    """A parked record that does not parse: its partition must stop, never skip it."""


def parked_topic(group_id: str) -> str:
    return f"{PARKED_PREFIX}{group_id}"


def parked_key(source: SourceCoordinates) -> bytes:
    # Topic names cannot contain "/", so the key parses back unambiguously.
    return f"{source.topic}/{source.partition}/{source.offset}".encode()


def source_of_key(key: bytes) -> SourceCoordinates:
    topic, partition, offset = key.decode().rsplit("/", 2)
    return SourceCoordinates(topic, int(partition), int(offset))


class ParkedCopy(BaseModel):
    """A copy planned for later: sent by the transaction that runs at `release_at_ms`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    copy_number: int = Field(ge=0)
    release_at_ms: int
    planned_delay_ms: int = Field(ge=0)
    # The copy's variant ("replay"), so the ledger names it once the copy is sent. A parked
    # copy is rebuilt from the source value: only byte-identical copies are parked.
    variant: str | None = None


class ParkedSource(BaseModel):
    """A decided source message whose copies are not all sent yet."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    v: int = PARKED_SCHEMA_VERSION
    topic: str
    partition: int
    offset: int
    key_b64: str | None
    value_b64: str | None
    headers: tuple[tuple[str, str | None], ...]  # (name, base64 value); null stays null
    timestamp_ms: int
    event_id: str
    fault: str
    reason: str | None
    decided_at_ms: int
    expected: int = Field(ge=0)  # copies that will come out in all
    sent: tuple[LedgerEmission, ...] = ()
    parked: tuple[ParkedCopy, ...] = ()
    # Copies kept inside the fault plan (a reorder buffer, a ready list): their release time
    # is not known yet. A successor process cannot know it either and releases them at once.
    in_plan: int = Field(default=0, ge=0)
    fault_name: str | None = None
    trace_id: str | None = None
    # Copies the destination could not take, sent to the dead-letter topic instead.
    undelivered: int = Field(default=0, ge=0)
    undelivered_reason: str | None = None

    @classmethod
    def decided(
        cls,
        envelope: Envelope,
        *,
        event_id: str,
        fault: str,
        reason: str | None,
        expected: int,
        in_plan: int,
        now_ms: int,
        fault_name: str | None = None,
        trace_id: str | None = None,
    ) -> ParkedSource:
        source = envelope.source
        return cls(
            topic=source.topic,
            partition=source.partition,
            offset=source.offset,
            key_b64=encode_key(envelope.key),
            value_b64=encode_key(envelope.value),
            headers=tuple((n, encode_key(v)) for n, v in envelope.headers),
            timestamp_ms=envelope.timestamp_ms,
            event_id=event_id,
            fault=fault,
            reason=reason,
            decided_at_ms=now_ms,
            expected=expected,
            in_plan=in_plan,
            fault_name=fault_name,
            # The decision span's trace when tracing, else the inbound traceparent's.
            trace_id=trace_id or trace_id_of(envelope.headers),
        )

    @property
    def source(self) -> SourceCoordinates:
        return SourceCoordinates(self.topic, self.partition, self.offset)

    @property
    def complete(self) -> bool:
        return len(self.sent) + self.undelivered >= self.expected

    @property
    def held(self) -> int:
        return len(self.parked) + self.in_plan

    def envelope(self) -> Envelope:
        return Envelope(
            key=decode_key(self.key_b64),
            value=decode_key(self.value_b64),
            headers=tuple((n, decode_key(v)) for n, v in self.headers),
            timestamp_ms=self.timestamp_ms,
            source=self.source,
        )

    def emission(self, copy: ParkedCopy) -> Emission:
        return Emission(
            self.envelope(),
            copy.copy_number,
            copy.release_at_ms,
            copy.planned_delay_ms,
            copy.variant,
        )

    def park(self, emission: Emission) -> ParkedSource:
        copy = ParkedCopy(
            copy_number=emission.copy,
            release_at_ms=emission.release_at_ms,
            planned_delay_ms=emission.planned_delay_ms,
            variant=emission.variant,
        )
        return self.model_copy(update={"parked": (*self.parked, copy)})

    def unpark(self, copy_number: int) -> tuple[ParkedSource, ParkedCopy | None]:
        found = next((c for c in self.parked if c.copy_number == copy_number), None)
        if found is None:
            return self, None
        rest = tuple(c for c in self.parked if c is not found)
        return self.model_copy(update={"parked": rest}), found

    def out_of_plan(self) -> ParkedSource:
        """One copy left the fault plan (it is being sent or parked by the caller)."""
        return self.model_copy(update={"in_plan": self.in_plan - 1})

    def with_sent(self, emission: LedgerEmission) -> ParkedSource:
        return self.model_copy(update={"sent": (*self.sent, emission)})

    def with_undelivered(self, reason: str) -> ParkedSource:
        return self.model_copy(
            update={"undelivered": self.undelivered + 1, "undelivered_reason": reason}
        )

    def orphaned_plan_copies(self, now_ms: int) -> ParkedSource:
        """Copies a previous process kept inside its plan become parked copies due now.

        Their copy numbers are the ones neither sent nor parked: a decision's copies are
        numbered 0 … expected - 1.
        """
        if not self.in_plan:
            return self
        taken = {e.copy_number for e in self.sent} | {c.copy_number for c in self.parked}
        missing = [n for n in range(self.expected) if n not in taken][: self.in_plan]
        copies = tuple(
            ParkedCopy(copy_number=n, release_at_ms=now_ms, planned_delay_ms=0) for n in missing
        )
        return self.model_copy(update={"parked": (*self.parked, *copies), "in_plan": 0})

    def ledger_entry(self, now_ms: int, salt: bytes | None = None) -> LedgerEntry:
        """The completed decision, for the one ledger encoder both delivery modes share
        (`streams.ledger.completed_records`, which compacts runs of passes); with a `salt`,
        the key and event id are pseudonyms, as the at-least-once ledger book writes them."""
        key = decode_key(self.key_b64)
        event_id = self.event_id
        if salt is not None:
            key = None if key is None else pseudonym(salt, key).encode("ascii")
            event_id = pseudonym(salt, event_id.encode("utf-8"))
        return LedgerEntry(
            self.source,
            key,
            event_id,
            self.fault,
            self.reason,
            self.decided_at_ms,
            self.expected,
            self.fault_name,
            self.timestamp_ms,
            self.trace_id,
            [
                (e.copy_number, e.planned_delay_ms, e.partition, e.offset, e.sent_at_ms, e.variant)
                for e in self.sent
            ],
            undelivered=self.undelivered,
            undelivered_reason=self.undelivered_reason,
            completed_at_ms=now_ms,
        )

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> ParkedSource:
        return cls.model_validate_json(raw)


def rebuild(
    records: Iterable[tuple[bytes | None, bytes | None]],
    partitions: set[tuple[str, int]] | None = None,
    unreadable: dict[tuple[str, int], str] | None = None,
) -> dict[SourceCoordinates, ParkedSource]:
    """The parked set from a compacted log read in order: latest value per key, no tombstones.

    `partitions` keeps only sources of those (topic, partition): the ones this process owns.
    A value that does not parse raises `ParkedUnreadable`, or, with `unreadable` given, names
    its partition there (that partition must stop; the others can go on).
    """
    latest: dict[bytes, bytes | None] = {}
    for key, value in records:
        if key is not None:
            latest[key] = value
    parked: dict[SourceCoordinates, ParkedSource] = {}
    for key, value in latest.items():
        if value is None:
            continue
        try:
            source = source_of_key(key)
        except (UnicodeDecodeError, ValueError) as exc:
            raise ParkedUnreadable(f"parked key {key!r} is not topic/partition/offset") from exc
        if partitions is not None and (source.topic, source.partition) not in partitions:
            continue
        try:
            parked[source] = ParkedSource.from_bytes(value)
        except ValidationError as exc:
            problem = f"parked record {key.decode()} does not parse: {exc.errors()[0]['msg']}"
            if unreadable is None:
                raise ParkedUnreadable(problem) from exc
            unreadable[(source.topic, source.partition)] = problem
    return parked
