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
    """Feed a history into a fresh index: the ledger first, so the index need not remember
    which unit each delivery belongs to (see `HistoryIndex`)."""
    index = HistoryIndex(by_event_id=by_event_id, late_ledger=False)
    index.add_ledger_records(history.ledger)
    index.add_sources(history.sources)
    index.add_effects(history.effects)
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
    once = config.model == "once"
    for unit in index.units():
        if once:
            # A million one-event units: the clean ones skip the per-unit objects. Same
            # verdict as judge_once (a judged, clean unit), pinned by a unit test.
            lone = index.lone_effect_latency(unit, horizon_ms)
            if lone is not None:
                tally.judged += 1
                latency.record(lone)
                continue
        facts = index.facts(unit, config.settle_ms, horizon_ms)
        tally.add(judge(facts))
        latency.extend(latencies(facts, observed_versions=observed_versions))
    coverage = Coverage(
        source_deliveries=index.source_deliveries,
        events=index.event_count(),
        units=tally.judged + tally.pending + tally.unobserved,
        judged=tally.judged,
        pending=tally.pending,
        unobserved=tally.unobserved,
        unledgered=index.unledgered,
        orphan_effects=index.orphan_effects(),
        unparsable=dict(unparsable or {}),
    )
    metrics = Metrics(latency_ms=latency.summary(), staleness=tally.staleness())
    return MonitorReport(
        model=config.model, anomalies=tally.anomalies(), metrics=metrics, coverage=coverage
    )
