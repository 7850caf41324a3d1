"""The batch checker: one verdict over a whole collected history."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from chaosbus.contracts.ledger_record import LedgerRecord
from chaosbus.monitors.anomalies import Finding
from chaosbus.monitors.causes import Delivered, explain
from chaosbus.monitors.checkers import JUDGES
from chaosbus.monitors.config import MonitorConfig
from chaosbus.monitors.coverage import coverage
from chaosbus.monitors.history import Coordinates, History
from chaosbus.monitors.index import HistoryIndex
from chaosbus.monitors.metrics import LatencyRecorder, latencies
from chaosbus.monitors.report import Cause, Metrics, MonitorReport
from chaosbus.monitors.tally import Tally


def build_index(history: History, *, by_event_id: bool) -> HistoryIndex:
    """Feed a history into a fresh index: the ledger first, so the index need not remember
    which unit each delivery belongs to (see `HistoryIndex`)."""
    index = HistoryIndex(by_event_id=by_event_id, late_ledger=False, consumed=history.consumed)
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
    origin_ms: int | None = None,
    outside_where: int = 0,
    without_amount: int = 0,
) -> MonitorReport:
    """Judge every unit of `history` under `config.model`.

    `horizon_ms` is the end of the recovery window: effects and observations after it are
    ignored, and events not settled by then are `pending`. `unparsable` is the extractor's
    failure count, passed through to the coverage section with `outside_where` and
    `without_amount` (see `monitors.coverage`). `origin_ms` is the run's start:
    times in the examples' details are said in seconds since then, as in the report.
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
                tally.judged_events += 1
                latency.record(lone)
                continue
        facts = index.facts(unit, config.settle_ms, horizon_ms, origin_ms)
        tally.add(judge(facts), len(facts.events))
        latency.extend(latencies(facts, observed_versions=observed_versions))
    metrics = Metrics(latency_ms=latency.summary(), staleness=tally.staleness())
    causes = explain_examples(tally.example_findings(), index, history.ledger, config.model)
    return MonitorReport(
        model=config.model,
        anomalies=tally.anomalies(causes),
        metrics=metrics,
        coverage=coverage(
            index,
            tally,
            unparsable,
            outside_where=outside_where,
            without_amount=without_amount,
        ),
    )


def explain_examples(
    findings: Sequence[Finding],
    index: HistoryIndex,
    ledger: Iterable[LedgerRecord],
    model: str,
) -> dict[str, Cause]:
    """The cause of each example's unit, joining its events' deliveries to the ledger.

    The ledger is scanned once, for the few coordinates the examples involve."""
    if not findings:
        return {}
    units = {f.unit: index.deliveries(f.unit) for f in findings}
    wanted = {
        coords for found in units.values() for _, all_coords in found for coords in all_coords
    }
    records: dict[Coordinates, list[LedgerRecord]] = {}
    for record in ledger:
        coords = (record.topic, record.partition, record.offset)
        if coords in wanted:
            records.setdefault(coords, []).append(record)
    causes: dict[str, Cause] = {}
    for finding in findings:
        evidence = finding.evidence
        assert evidence is not None  # example findings are bad ones
        unit = [
            Delivered(
                event,
                tuple(_latest(records[c]) for c in coords if c in records),
                tuple(r for c in coords if c in records for r in records[c][:-1]),
            )
            for event, coords in units[finding.unit]
        ]
        causes[finding.unit] = explain(
            evidence.kind,
            evidence.event_ids,
            evidence.expected,
            evidence.observed,
            unit,
            versions=model == "entity",
            amounts=evidence.amounts,
        )
    return causes


def _latest(found: list[LedgerRecord]) -> LedgerRecord:
    """A replayed decision for the same message supersedes the earlier one (as in the index)."""
    return found[-1]
