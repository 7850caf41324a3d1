"""Everything the monitors learn about a run, fed as it is read and kept for the verdict.

One `CheckState` per declared check: its compiled extractors, a `LiveChecker` for
guardrails and the recovery series, and the history the batch checker judges at the end
(sources, ledger, effects and observations). The live and batch verdicts come from the same
pure checkers; the batch one is the verdict. The service's consumer-group lag, when
`monitor.service_group` is declared, is kept beside the checks (`lag`).

`live=False` collects a recorded window after the fact (`chaosbus check`): no live
checkers, and since every source event is read before any effect, an effect naming none of
them is another run's (the topic or table is shared) and is left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from chaosbus.contracts.ledger_record import LedgerRecord
from chaosbus.experiment.monitor import CheckSpec, MonitorSpec
from chaosbus.injectors.envelope import Envelope
from chaosbus.monitors import LiveChecker, MonitorReport, check, compile_extractors
from chaosbus.monitors.consumed import Consumed
from chaosbus.monitors.extractors import Extractor
from chaosbus.monitors.history import Effect, History, Number, Observation, SourceEvent
from chaosbus.monitors.lag import LagSample, LagSeries
from chaosbus.monitors.probes.kind import Reading
from chaosbus.runner.latency import LiveLatency

# An unchanged observation is fed again after this long, so a unit that settles later
# still gets an observation taken after it settled.
REFRESH_MS = 1_000


@dataclass
class CheckState:
    spec: CheckSpec
    extractor: Extractor
    live: LiveChecker | None  # None after the fact
    sources: list[SourceEvent] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    unreadable_effects: int = 0  # effects that named no event id
    entities: dict[str, None] = field(default_factory=dict)  # insertion-ordered set
    last_fed: dict[str, tuple[int, Number | None]] = field(default_factory=dict)


class Collector:
    """`lag_route`: the route whose destination the service group's lag samples read (with
    `monitor.service_group`); its copies are due no earlier than the service was seen to
    commit them (`monitors.consumed`), live and in the verdict."""

    def __init__(
        self, monitor: MonitorSpec, *, live: bool = True, lag_route: str | None = None
    ) -> None:
        self.monitor = monitor
        self.live = live
        self.lag_route = lag_route if monitor.service_group is not None else None
        self.checks = {
            c.name: CheckState(
                c,
                compile_extractors(c.extract, c.where),
                LiveChecker(monitor.config_for(c), service_route=self.lag_route) if live else None,
            )
            for c in monitor.checks
        }
        self.ledger: list[LedgerRecord] = []
        self.latency = LiveLatency()
        # Source offsets that have a ledger record, per partition, and the source messages
        # read that have none yet: "has the interposer decided everything read so far?"
        self.ledgered: dict[int, set[int]] = {}
        self._undecided: set[tuple[int, int]] = set()
        self.lag = None if monitor.service_group is None else LagSeries(monitor.stall_ms)

    def feed_source(self, envelope: Envelope) -> None:
        source = envelope.source
        if source.offset not in self.ledgered.get(source.partition, ()):
            self._undecided.add((source.partition, source.offset))
        for state in self.checks.values():
            event = state.extractor(envelope)
            if event is None:
                continue
            state.sources.append(event)
            state.entities.setdefault(event.entity, None)
            if state.live is not None:
                state.live.feed_source(event)
                if state.spec.model == "entity":
                    self.latency.on_source(event)

    def feed_ledger(self, record: LedgerRecord) -> None:
        if record.topic != self.monitor.source_topic:
            return
        self.ledger.append(record)
        self.ledgered.setdefault(record.partition, set()).add(record.offset)
        self._undecided.discard((record.partition, record.offset))
        for state in self.checks.values():
            if state.live is not None:
                state.live.feed_ledger(record)

    def feed_lag(self, sample: LagSample) -> None:
        """One sample of the service group's committed offsets and the topic's ends."""
        if self.lag is None:
            return
        self.lag.add(sample)
        for state in self.checks.values():
            if state.live is not None:
                state.live.feed_lag(sample)

    def feed_observations(
        self, name: str, observations: Sequence[Observation], *, force: bool
    ) -> None:
        state = self.checks[name]
        for observation in observations:
            last = state.last_fed.get(observation.entity)
            stale = last is None or (
                last[1] != observation.value or observation.observed_at_ms - last[0] >= REFRESH_MS
            )
            if not (force or stale):
                continue
            state.last_fed[observation.entity] = (observation.observed_at_ms, observation.value)
            state.observations.append(observation)
            if state.live is not None:
                state.live.feed_observation(observation)
                if state.spec.model == "entity":
                    self.latency.on_observation(observation)

    def feed_effects(self, name: str, effects: Sequence[Effect], *, unreadable: int = 0) -> None:
        state = self.checks[name]
        state.unreadable_effects += unreadable
        if state.live is None:
            known = {event.event_id for event in state.sources}
            effects = [effect for effect in effects if effect.event_id in known]
        state.effects.extend(effects)
        for effect in effects:
            if state.live is not None:
                state.live.feed_effect(effect)

    def feed_reading(self, name: str, reading: Reading, *, force: bool) -> None:
        """One read of the check's probe (`force`: keep even unchanged observations)."""
        if reading.observations:
            self.feed_observations(name, reading.observations, force=force)
        if reading.effects or reading.unreadable:
            self.feed_effects(name, reading.effects, unreadable=reading.unreadable)

    def entities(self, name: str) -> list[str]:
        return list(self.checks[name].entities)

    def undecided(self, ends: dict[int, int]) -> int:
        """Source messages read below `ends` that have no ledger record (yet)."""
        return sum(1 for partition, offset in self._undecided if offset < ends.get(partition, 0))

    def snapshot(self, now_ms: int) -> dict[str, MonitorReport]:
        """The live checkers' reports now (none after the fact)."""
        return {
            name: state.live.snapshot(
                now_ms,
                _unparsable(state),
                outside_where=state.extractor.outside_where,
                without_amount=state.extractor.without_amount,
            )
            for name, state in self.checks.items()
            if state.live is not None
        }

    def verdict(self, horizon_ms: int, origin_ms: int | None = None) -> dict[str, MonitorReport]:
        """The batch checker over everything collected: the run's verdict per check.
        `origin_ms`, the run's start, is the zero of the times the examples' details say."""
        consumed = (
            None
            if self.lag is None or self.lag_route is None
            else Consumed.from_samples(self.lag_route, self.lag.samples)
        )
        reports: dict[str, MonitorReport] = {}
        for name, state in self.checks.items():
            history = History(
                tuple(state.sources),
                tuple(self.ledger),
                tuple(state.effects),
                tuple(state.observations),
                consumed,
            )
            config = self.monitor.config_for(state.spec)
            unparsable = _unparsable(state)
            reports[name] = check(
                history,
                config,
                horizon_ms=horizon_ms,
                unparsable=unparsable,
                origin_ms=origin_ms,
                outside_where=state.extractor.outside_where,
                without_amount=state.extractor.without_amount,
            )
        return reports


def _unparsable(state: CheckState) -> dict[str, int]:
    """The check's unreadable messages by what failed: its extractors', and effects that
    named no event (`effect_event_id`)."""
    unparsable = dict(state.extractor.unparsable)
    if state.unreadable_effects:
        unparsable["effect_event_id"] = state.unreadable_effects
    return unparsable
