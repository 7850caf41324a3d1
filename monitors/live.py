"""The live checker: the batch checker's logic, fed one fact at a time.

Guardrails and the time-to-recovery series read `snapshot(now_ms)` during a run. Feeding
only records facts and marks the units they touch; a snapshot re-judges those units (and
the ones still pending, whose verdict depends on the clock) with the same pure checkers as
the batch mode, so a live snapshot over a complete history equals the batch verdict.

No I/O and no clock of its own: the host (a plain task today, perhaps a faust agent later)
passes `now_ms`. A unit whose facts are still settling is `pending`: it is neither clean
nor bad, and any earlier verdict on it is withdrawn until it settles.
"""

from __future__ import annotations

from chaosbus.contracts.ledger_record import LedgerRecord
from chaosbus.monitors.anomalies import Finding
from chaosbus.monitors.checkers import JUDGES
from chaosbus.monitors.config import MonitorConfig
from chaosbus.monitors.history import Effect, Observation, SourceEvent
from chaosbus.monitors.index import HistoryIndex
from chaosbus.monitors.report import Coverage, Metrics, MonitorReport
from chaosbus.monitors.tally import Tally


class LiveChecker:
    """Incremental verdicts; `feed_*` in any interleaving, `snapshot` whenever."""

    def __init__(self, config: MonitorConfig) -> None:
        self.config = config
        self._judge = JUDGES[config.model]
        self._by_event_id = config.model == "once"
        self._index = HistoryIndex(by_event_id=self._by_event_id)
        self._dirty: set[str] = set()
        self._findings: dict[str, tuple[Finding, int]] = {}  # with the unit's event count
        self._pending: set[str] = set()  # verdicts that may change with the clock alone
        self._tally = Tally(config.max_examples)

    def feed_source(self, event: SourceEvent) -> None:
        unit = self._index.add_source(event)
        self._dirty.add(unit)

    def feed_ledger(self, record: LedgerRecord) -> None:
        unit = self._index.add_ledger(record)
        if unit is not None:
            self._dirty.add(unit)

    def feed_effect(self, effect: Effect) -> None:
        self._index.add_effect(effect)
        # An effect read before its source event waits: the source marks the unit later.
        unit = self._index.unit_of_event(effect.event_id)
        if unit is not None:
            self._dirty.add(unit)

    def feed_observation(self, observation: Observation) -> None:
        self._index.add_observation(observation)
        if not self._by_event_id:
            self._dirty.add(observation.entity)

    def snapshot(self, now_ms: int) -> MonitorReport:
        """Current counts and coverage; `anomalies.clean` is the recovery predicate."""
        tally = self._tally
        for unit in self._dirty | self._pending:
            facts = self._index.facts(unit, self.config.settle_ms, now_ms)
            old = self._findings.get(unit)
            if old is not None:
                tally.remove(*old)
            new = self._judge(facts)
            self._findings[unit] = (new, len(facts.events))
            tally.add(new, len(facts.events))
            if new.status == "pending":
                self._pending.add(unit)
            else:
                self._pending.discard(unit)
        self._dirty.clear()
        index = self._index
        coverage = Coverage(
            source_deliveries=index.source_deliveries,
            events=index.event_count(),
            source_events=index.event_count(),
            units=len(self._findings),
            judged=tally.judged,
            judged_events=tally.judged_events,
            pending_events=tally.pending_events,
            pending=tally.pending,
            unobserved=tally.unobserved,
            unledgered=index.unledgered,
            orphan_effects=index.orphan_effects(),
        )
        return MonitorReport(
            model=self.config.model,
            anomalies=tally.anomalies(),
            metrics=Metrics(staleness=tally.staleness()),
            coverage=coverage,
        )
