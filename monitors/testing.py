"""Builders for hand-written histories: the monitors' test helpers, shipped as public API.

Offsets and timestamps are assigned in order, and every source delivery gets the ledger
record the interposer would have written for its fault, so a test states only what it is
about::

    h = HistoryBuilder()
    v1 = h.event("order-1", 1)
    h.event("order-1", 2, fault="drop")
    h.observe("order-1", 1, at_ms=h.now_ms + 10_000)
    report = check(h.build(), MonitorConfig(source_topic=h.topic, model="entity"))
"""

from __future__ import annotations

import itertools

from chaosbus.contracts.ledger_record import LedgerEmission, LedgerRecord, encode_key
from chaosbus.injectors.registry import INJECTORS
from chaosbus.monitors.history import Effect, History, Number, Observation, SourceEvent


def ledgered(fault: str) -> tuple[str | None, ...]:
    """The variants of the copies a typical decision of `fault` ("pass" or a fault type)
    ledgers, as its registry entry says: a duplicate two intact copies, a drop none."""
    return (None,) if fault == "pass" else INJECTORS[fault].ledgered


class HistoryBuilder:
    """A history in the making; `now_ms` advances by `step_ms` with each source event."""

    def __init__(
        self,
        topic: str = "orders",
        *,
        start_ms: int = 1_000,
        step_ms: int = 10,
        run_id: str = "run-test",
    ) -> None:
        self.topic = topic
        self.run_id = run_id
        self.now_ms = start_ms
        self.step_ms = step_ms
        self.sources: list[SourceEvent] = []
        self.ledger: list[LedgerRecord] = []
        self.effects: list[Effect] = []
        self.observations: list[Observation] = []
        self._offsets = itertools.count()
        self._ids = itertools.count(1)

    def event(
        self,
        entity: str,
        version: Number | None = None,
        *,
        event_id: str | None = None,
        delete: bool = False,
        amount: Number | None = None,
        fault: str = "pass",
        delay_ms: int = 0,
        partition: int = 0,
        fault_name: str | None = None,
        copies: int | None = None,
        variants: tuple[str | None, ...] | None = None,
        later_ms: int = 0,
    ) -> SourceEvent:
        """A new source event and its ledger record; the version defaults to the offset.

        `variants` gives each copy's ledger variant (one per copy: `("corrupt:flip",)` is a
        replace-mode corruption, `(None, "corrupt:flip")` an extra-mode one); `later_ms`
        sends every copy after the first that much later (a replay).
        """
        offset = next(self._offsets)
        self.now_ms += self.step_ms
        event = SourceEvent(
            coords=(self.topic, partition, offset),
            event_id=event_id if event_id is not None else f"e{next(self._ids)}",
            entity=entity,
            version=offset if version is None and not delete else version,
            is_delete=delete,
            amount=amount,
            timestamp_ms=self.now_ms,
        )
        return self.deliver(
            event,
            fault=fault,
            delay_ms=delay_ms,
            fault_name=fault_name,
            copies=copies,
            variants=variants,
            later_ms=later_ms,
        )

    def redeliver(self, event: SourceEvent, *, fault: str = "pass") -> SourceEvent:
        """The same event delivered again by the source (a producer retry), new offset."""
        self.now_ms += self.step_ms
        topic, partition, _ = event.coords
        again = SourceEvent(
            (topic, partition, next(self._offsets)),
            event.event_id,
            event.entity,
            event.version,
            event.is_delete,
            event.amount,
            self.now_ms,
        )
        return self.deliver(again, fault=fault)

    def redecide(self, event: SourceEvent) -> SourceEvent:
        """The same source message decided again: an at-least-once interposer restarted
        before committing it, read it again and, decisions being deterministic, wrote the
        same ledger record a second time (no new source delivery, the same coordinates)."""
        coords = event.coords
        last = next(r for r in reversed(self.ledger) if (r.topic, r.partition, r.offset) == coords)
        self.ledger.append(last)
        return event

    def deliver(
        self,
        event: SourceEvent,
        *,
        fault: str = "pass",
        delay_ms: int = 0,
        fault_name: str | None = None,
        copies: int | None = None,
        variants: tuple[str | None, ...] | None = None,
        later_ms: int = 0,
    ) -> SourceEvent:
        """Record `event` as read from the source, and the interposer's decision on it."""
        self.sources.append(event)
        record = ledger_record(
            event,
            fault=fault,
            delay_ms=delay_ms,
            run_id=self.run_id,
            fault_name=fault_name,
            copies=copies,
            variants=variants,
            later_ms=later_ms,
        )
        self.ledger.append(record)
        return event

    def effect(self, event: SourceEvent | str, *, at_ms: int | None = None) -> Effect:
        event_id = event if isinstance(event, str) else event.event_id
        entity = None if isinstance(event, str) else event.entity
        effect = Effect(event_id, self.now_ms if at_ms is None else at_ms, entity)
        self.effects.append(effect)
        return effect

    def observe(self, entity: str, value: Number | None, *, at_ms: int) -> Observation:
        observation = Observation(entity, at_ms, value)
        self.observations.append(observation)
        return observation

    def build(self) -> History:
        return History(
            tuple(self.sources), tuple(self.ledger), tuple(self.effects), tuple(self.observations)
        )


def ledger_record(
    event: SourceEvent,
    *,
    fault: str = "pass",
    delay_ms: int = 0,
    run_id: str = "run-test",
    fault_name: str | None = None,
    copies: int | None = None,
    variants: tuple[str | None, ...] | None = None,
    later_ms: int = 0,
) -> LedgerRecord:
    """The ledger record the interposer writes for one delivery of `event`; `copies`
    overrides the fault's usual number of emissions (`ledgered`: a duplicate makes 2)."""
    topic, partition, offset = event.coords
    sent = event.timestamp_ms + delay_ms
    if variants is None:
        variants = (None,) * copies if copies is not None else ledgered(fault)
    emissions = tuple(
        # Where a copy lands downstream depends on when it was sent: left unknown here, so
        # the order of sends is their time (set `offset` on a copy to order by position).
        LedgerEmission(
            copy_number=copy,
            planned_delay_ms=delay_ms + (later_ms if copy else 0),
            partition=partition,
            sent_at_ms=sent + (later_ms if copy else 0),
            variant=variant,
        )
        for copy, variant in enumerate(variants)
    )
    sent = max((e.sent_at_ms or sent for e in emissions), default=sent)
    return LedgerRecord(
        run_id=run_id,
        route=f"{topic}->{topic}.out",
        topic=topic,
        partition=partition,
        offset=offset,
        event_id=event.event_id,
        key_b64=encode_key(event.entity.encode()),
        fault=fault,
        emissions=emissions,
        decided_at_ms=event.timestamp_ms,
        completed_at_ms=sent,
        fault_name=None if fault == "pass" else (fault_name or "faults[0]"),
        source_timestamp_ms=event.timestamp_ms,
    )
