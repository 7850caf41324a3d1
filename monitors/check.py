"""The batch checker: one verdict over a whole collected history."""

from __future__ import annotations

from collections.abc import Mapping

from monitors.checkers import JUDGES
from monitors.config import MonitorConfig
from monitors.history import History
from monitors.index import HistoryIndex
from monitors.metrics import LatencyRecorder, latencies
from monitors.report import Coverage, Metrics, MonitorReport
from monitors.tally import Tally


def build_index(history: History, *, by_event_id: bool) -> HistoryIndex:
    """Feed a history into a fresh index (sources, then ledger, effects, observations)."""
    index = HistoryIndex(by_event_id=by_event_id)
    add_source, add_ledger = index.add_source, index.add_ledger
    for event in history.sources:
        add_source(event)
    for record in history.ledger:
        add_ledger(record)
    for effect in history.effects:
        index.add_effect(effect)
    for observation in history.observations:
        index.add_observation(observation)
    return index


def check(
    history: History,
    config: MonitorConfig,
    *,
    horizon_ms: int | None = None,
    unparsable: Mapping[str, int] | None = None,
) -> MonitorReport:
    """Judge every unit of `history` under `config.model`.

    `horizon_ms` is the end of the recovery window: effects and observations after it are
    ignored, and events not settled by then are `pending`. `unparsable` is the extractor's
    failure count, passed through to the coverage section.
    """
    judge = JUDGES[config.model]
    index = build_index(history, by_event_id=config.model == "once")
    tally = Tally(config.max_examples)
    latency = LatencyRecorder()
    observed_versions = config.model == "entity"
    for unit in sorted(index.units()):
        facts = index.facts(unit, config.settle_ms, horizon_ms)
        tally.add(judge(facts))
        latency.extend(latencies(facts, observed_versions=observed_versions))
    coverage = Coverage(
        source_deliveries=index.source_deliveries,
        events=sum(len(events) for events in index.events.values()),
        units=tally.judged + tally.pending + tally.unobserved,
        judged=tally.judged,
        pending=tally.pending,
        unobserved=tally.unobserved,
        unledgered=index.unledgered() if history.ledger else index.source_deliveries,
        orphan_effects=index.orphan_effects(),
        unparsable=dict(unparsable or {}),
    )
    metrics = Metrics(latency_ms=latency.summary(), staleness=tally.staleness())
    return MonitorReport(
        model=config.model, anomalies=tally.anomalies(), metrics=metrics, coverage=coverage
    )
