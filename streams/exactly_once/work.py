"""What one transaction of one input partition does, planned before any I/O.

A `PartitionWork` starts from the committed parked set and collects, for one partition:
new decisions, copies the fault plan let out, parked copies whose time came. It says what
to send now, and after the sends, which parked records to rewrite or tombstone and which
ledger records complete. Nothing changes in the committed set until the transaction
commits: on abort the work is simply thrown away. Pure: no I/O here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from chaosbus.contracts.ledger_record import LedgerEmission
from chaosbus.injectors.envelope import Emission, Envelope, SourceCoordinates
from chaosbus.streams.decider import DecisionLike
from chaosbus.streams.exactly_once.parked import ParkedCopy, ParkedSource, parked_key
from chaosbus.streams.ledger import CompletedRecord, completed_records


@dataclass
class PartitionWork:
    committed: Mapping[SourceCoordinates, ParkedSource]
    now_ms: int
    # Drain, kill switch, or no fault plan: every copy goes out now, future ones included.
    release_all: bool = False
    drafts: dict[SourceCoordinates, ParkedSource] = field(default_factory=dict)
    to_send: list[Emission] = field(default_factory=list)
    newly_parked: list[tuple[SourceCoordinates, ParkedCopy]] = field(default_factory=list)
    # Copies the plan let out in this work: lost from the plan if the transaction aborts,
    # so the caller keeps them to retry.
    from_plan: list[Emission] = field(default_factory=list)
    next_offset: int | None = None
    faults: Counter[str] = field(default_factory=Counter)
    stale: int = 0
    # Copies too large for the destination, sent to the dead-letter topic instead.
    undelivered_count: int = 0

    def _current(self, source: SourceCoordinates) -> ParkedSource | None:
        return self.drafts.get(source) or self.committed.get(source)

    def decide(
        self,
        envelope: Envelope,
        decision: DecisionLike,
        event_id: str,
        *,
        trace_id: str | None = None,
    ) -> None:
        source = envelope.source
        self.next_offset = source.offset + 1
        self.faults[decision.fault] += 1
        draft = ParkedSource.decided(
            envelope,
            event_id=event_id,
            fault=decision.fault,
            reason=decision.reason,
            expected=len(decision.emissions) + decision.held,
            in_plan=decision.held,
            now_ms=self.now_ms,
            fault_name=decision.fault_name,
            trace_id=trace_id,
        )
        self.drafts[source] = draft
        for emission in decision.emissions:
            self._route(emission)

    def plan_released(self, emission: Emission) -> None:
        """A copy the plan kept comes out (poll/flush)."""
        source = emission.envelope.source
        current = self._current(source)
        if current is None or current.in_plan == 0:
            # Left in the plan by a decision whose transaction aborted: the message was
            # read again and decided afresh, so this copy belongs to no one.
            self.stale += 1
            return
        self.from_plan.append(emission)
        self.drafts[source] = current.out_of_plan()
        self._route(emission)

    def release(self, source: SourceCoordinates, copy_number: int) -> bool:
        """A parked copy whose time came; False if it is no longer parked (stale entry)."""
        current = self._current(source)
        if current is None:
            return False
        rest, copy = current.unpark(copy_number)
        if copy is None:
            return False
        self.drafts[source] = rest
        self.to_send.append(current.emission(copy))
        return True

    def _route(self, emission: Emission) -> None:
        source = emission.envelope.source
        if self.release_all or emission.release_at_ms <= self.now_ms:
            self.to_send.append(emission)
            return
        draft = self.drafts[source].park(emission)
        self.drafts[source] = draft
        self.newly_parked.append((source, draft.parked[-1]))

    def sent(self, emission: Emission, *, partition: int, offset: int | None) -> None:
        source = emission.envelope.source
        self.drafts[source] = self.drafts[source].with_sent(
            LedgerEmission(
                copy_number=emission.copy,
                planned_delay_ms=emission.planned_delay_ms,
                partition=partition,
                offset=offset,
                sent_at_ms=self.now_ms,
                variant=emission.variant,
            )
        )

    def undelivered(self, emission: Emission, reason: str) -> None:
        """One copy went to the dead-letter topic instead of the destination."""
        source = emission.envelope.source
        self.drafts[source] = self.drafts[source].with_undelivered(reason)
        self.undelivered_count += 1

    def parked_writes(self) -> list[tuple[bytes, bytes | None]]:
        """(key, value) for the parked topic; None is a tombstone of a completed message."""
        writes: list[tuple[bytes, bytes | None]] = []
        for source, draft in self.drafts.items():
            if not draft.complete:
                writes.append((parked_key(source), draft.to_bytes()))
            elif source in self.committed:
                writes.append((parked_key(source), None))
            # Complete and never parked: nothing was written, nothing to remove.
        return writes

    def ledger_records(
        self, *, run_id: str, route: str, salt: bytes | None = None
    ) -> list[CompletedRecord]:
        """The ledger records of the messages this work completes, runs of passes compacted
        as in at-least-once mode."""
        return completed_records(
            (
                draft.ledger_entry(self.now_ms, salt)
                for draft in self.drafts.values()
                if draft.complete
            ),
            run_id=run_id,
            route=route,
        )

    def apply_to(self, parked: dict[SourceCoordinates, ParkedSource]) -> None:
        """After the commit: the committed parked set becomes what this work wrote."""
        for source, draft in self.drafts.items():
            if draft.complete:
                parked.pop(source, None)
            else:
                parked[source] = draft

    @property
    def empty(self) -> bool:
        return not self.drafts and self.next_offset is None
