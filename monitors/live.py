"""The live checker: the batch checker's logic, fed one fact at a time.

Guardrails and the time-to-recovery series read `snapshot(now_ms)` during a run. Feeding
only records facts and marks the units they touch; a snapshot re-judges those units (and
the ones still pending, whose verdict depends on the clock) with the same pure checkers as
the batch mode, so a live snapshot over a complete history equals the batch verdict.

No I/O and no clock of its own: the host (a plain task today, perhaps a faust agent later)
passes `now_ms`. A unit whose facts are still settling is `pending`: it is neither clean
nor bad, and any earlier verdict on it is withdrawn until it settles. A `once` effect whose
event the source has not shown (yet) is such a unit until `settle_ms` after it was seen:
its source event may still be on its way to the reader (decision 0061); past that it is
judged as the batch checker judges it, an orphan.

With the service group's route (`service_route`, from `monitor.service_group`) the host
also feeds the group's lag samples: a unit whose copy the service has not committed yet is
pending, and settles from when it was (`monitors.consumed`), as in the batch verdict.
"""

from __future__ import annotations

from collections.abc import Mapping

from chaosbus.contracts.ledger_record import LedgerRecord
from chaosbus.monitors.anomalies import Finding
from chaosbus.monitors.awaiting import AwaitingConsumption
from chaosbus.monitors.checkers import JUDGES
from chaosbus.monitors.config import MonitorConfig
from chaosbus.monitors.consumed import Consumed
from chaosbus.monitors.coverage import coverage
from chaosbus.monitors.history import Effect, Observation, SourceEvent
from chaosbus.monitors.index import HistoryIndex, UnitFacts
from chaosbus.monitors.lag import LagSample
from chaosbus.monitors.report import Metrics, MonitorReport
from chaosbus.monitors.tally import Tally


class LiveChecker:
    """Incremental verdicts; `feed_*` in any interleaving, `snapshot` whenever."""

    def __init__(self, config: MonitorConfig, *, service_route: str | None = None) -> None:
        self.config = config
        self._judge = JUDGES[config.model]
        self._by_event_id = config.model == "once"
        # The index dates deliveries by their send times; the commits seen so far move
        # them later as samples arrive (`feed_lag`), and a unit waits while any copy does.
        self._index = HistoryIndex(by_event_id=self._by_event_id)
        self._awaiting = (
            None if service_route is None else AwaitingConsumption(Consumed(service_route))
        )
        self._dirty: set[str] = set()
        self._findings: dict[str, tuple[Finding, int]] = {}  # with the unit's event count
        self._pending: set[str] = set()  # verdicts that may change with the clock alone
        self._tally = Tally(config.max_examples)

    def feed_source(self, event: SourceEvent) -> None:
        unit = self._index.add_source(event)
        self._dirty.add(unit)

    def feed_ledger(self, record: LedgerRecord) -> None:
        unit = self._index.add_ledger(record)
        if self._awaiting is not None:
            self._awaiting.track(record)
        if unit is not None:
            self._dirty.add(unit)

    def feed_lag(self, sample: LagSample) -> None:
        """The service group's committed offsets at `sample.at_ms` (with `service_route`)."""
        if self._awaiting is None:
            return
        for coords, at_ms in self._awaiting.consume(sample):
            unit = self._index.consumed_later(coords, at_ms)
            if unit is not None:
                self._dirty.add(unit)

    def feed_effect(self, effect: Effect) -> None:
        self._index.add_effect(effect)
        unit = self._index.unit_of_event(effect.event_id)
        if unit is None and self._by_event_id:
            unit = effect.event_id  # no source event yet: pending while it may still come
        if unit is not None:
            self._dirty.add(unit)

    def feed_observation(self, observation: Observation) -> None:
        self._index.add_observation(observation)
        if not self._by_event_id:
            self._dirty.add(observation.entity)

    def snapshot(
        self,
        now_ms: int,
        unparsable: Mapping[str, int] | None = None,
        *,
        outside_where: int = 0,
        without_amount: int = 0,
    ) -> MonitorReport:
        """Current counts and coverage; `anomalies.clean` is the recovery predicate.
        `unparsable`: the source messages the host's extractors could not read so far;
        `outside_where`, `without_amount`: the host extractors' other counts."""
        tally = self._tally
        for unit in self._dirty | self._pending:
            old = self._findings.get(unit)
            if old is not None:
                tally.remove(*old)
            waiting = self._waits_for_the_service(unit)
            if waiting:  # nothing to judge yet: its facts are not gathered
                new, events = Finding(unit, status="pending"), self._index.event_count_of(unit)
            else:
                facts = self._index.facts(unit, self.config.settle_ms, now_ms)
                new, events = self._judge_now(facts, now_ms), len(facts.events)
            self._findings[unit] = (new, events)
            tally.add(new, events)
            # A unit waiting for the service changes with a lag sample (`feed_lag` marks
            # it), not with the clock: not re-judged on every snapshot meanwhile.
            if new.status == "pending" and not waiting:
                self._pending.add(unit)
            else:
                self._pending.discard(unit)
        self._dirty.clear()
        return MonitorReport(
            model=self.config.model,
            anomalies=tally.anomalies(),
            metrics=Metrics(staleness=tally.staleness()),
            coverage=coverage(
                self._index,
                tally,
                unparsable,
                outside_where=outside_where,
                without_amount=without_amount,
            ),
        )

    def _waits_for_the_service(self, unit: str) -> bool:
        awaiting = self._awaiting
        return awaiting is not None and awaiting.waiting(
            coords for _, deliveries in self._index.deliveries(unit) for coords in deliveries
        )

    def _judge_now(self, facts: UnitFacts, now_ms: int) -> Finding:
        if self._by_event_id and not facts.events:
            seen = [effect.observed_at_ms for effect in facts.effects.get(facts.unit, ())]
            if not seen or now_ms < min(seen) + self.config.settle_ms:
                return Finding(facts.unit, status="pending")
        return self._judge(facts)
