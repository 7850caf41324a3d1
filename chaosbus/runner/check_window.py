"""`chaosbus check`: the monitors over a recorded window, after the fact.

The window is one run's: its ledger records name the source messages it decided; those
messages are read back from the source topic, each check's probe is read once now, and
the batch checker judges. Effects are read whole (a topic to its end, a listing now) and
only those naming an event of the window are kept: other runs share the topic or table.
No interposer, no faults. The status comes from `conclude`, the function `run` uses: the
same bounds, coverage and exit codes (0 held, 1 violated, 2 error, 4 inconclusive). A bound
on `time_to_recovery_s` needs the live series of a run: after the fact it is unknown, and
left out of the judgement.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from chaosbus.clients.connection import KafkaSettings
from chaosbus.clients.errors import BrokerUnreachable
from chaosbus.contracts.clock import Clock, wall_clock_ms
from chaosbus.errors import InvalidInput, Unreachable
from chaosbus.experiment.spec import ExperimentSpec
from chaosbus.injectors.blast import CAPS
from chaosbus.monitors import check, compile_extractors
from chaosbus.monitors.errors import MonitorError
from chaosbus.monitors.history import Effect, History, Observation
from chaosbus.monitors.probes.kafka_reader import read_effects, read_ledger, read_source
from chaosbus.monitors.redelivery import first_decisions, redelivered
from chaosbus.report.model import RunReport
from chaosbus.runner.observe import Observed
from chaosbus.runner.probes import effects_probe, effects_topic, probe_shape, state_probe
from chaosbus.runner.verdict import conclude, judge, merge_anomalies, merge_metrics


async def check_window(
    spec: ExperimentSpec,
    *,
    kafka: KafkaSettings,
    redis_url: str,
    run_id: str,
    key_prefix: str = "",
    actor: str = "",
    clock: Clock = wall_clock_ms,
) -> RunReport:
    source = spec.monitor.source_topic
    try:
        ledger, _ = await read_ledger(kafka, run_id, source_topic=source)
        envelopes = await read_source(kafka, source)
    except (MonitorError, BrokerUnreachable) as exc:
        raise Unreachable(str(exc)) from exc
    if not ledger:
        raise InvalidInput(f"no ledger record of run {run_id!r} for source topic {source!r}")
    decided = {(r.topic, r.partition, r.offset) for r in ledger}
    window = [
        e for e in envelopes if (e.source.topic, e.source.partition, e.source.offset) in decided
    ]
    now = clock()
    reports = {}
    for spec_check in spec.monitor.checks:
        extractor = compile_extractors(spec_check.extract)
        events = [event for event in map(extractor, window) if event is not None]
        entities = list(dict.fromkeys(event.entity for event in events))
        observations: list[Observation] = []
        effects: list[Effect] = []
        unparsable = dict(extractor.unparsable)
        shape = probe_shape(spec_check.probe)
        topic = effects_topic(spec_check.probe)
        try:
            if shape == "state":
                async with state_probe(spec_check.probe, redis_url, key_prefix) as probe:
                    observations = await probe.observe(entities, now)
            elif shape == "listing":
                async with effects_probe(spec_check.probe) as listing:
                    effects = await listing.effects(now)
            elif topic is not None:
                effects, unreadable = await read_effects(kafka, topic)
                if unreadable["event_id"]:
                    unparsable["effect_event_id"] = unreadable["event_id"]
        except MonitorError as exc:
            raise Unreachable(str(exc)) from exc
        ids = {event.event_id for event in events}
        effects = [effect for effect in effects if effect.event_id in ids]
        history = History(tuple(events), tuple(ledger), tuple(effects), tuple(observations))
        config = spec.monitor.config_for(spec_check)
        reports[spec_check.name] = check(history, config, horizon_ms=now, unparsable=unparsable)
    # A message decided again after an interposer restart is one decision, not two faults.
    decisions = first_decisions(ledger)
    faults = Counter(record.fault for record in decisions)
    suppressed = Counter(record.reason for record in decisions if record.reason in CAPS)
    observed = Observed(reports, dict(faults))
    merged = merge_anomalies(reports, spec.monitor.max_examples)
    judged = judge(spec.steady_state, observed, "after")
    after = [r for r in judged if r.metric != "time_to_recovery_s"]
    verdict = conclude(after, reports, min_judged_share=spec.monitor.min_judged_share)
    return RunReport(
        name=spec.name,
        hypothesis=spec.hypothesis,
        status=verdict.status,
        reason=verdict.reason,
        run_id=run_id,
        seed=spec.seed,
        actor=actor,
        started_at=datetime.fromtimestamp(now / 1000, tz=UTC).isoformat(timespec="seconds"),
        started_ms=now,
        duration_s=0.0,
        routes=[f"{r.source} -> {r.destination}" for r in spec.routes],
        hypotheses=after,
        anomalies=merged,
        faults=dict(faults),
        faults_suppressed={cap: suppressed[cap] for cap in CAPS},
        redelivered=redelivered(ledger),
        metrics=merge_metrics(reports, None),
        guardrails=[],
        checks=reports,
        phases=[],
        timeline=[],
    )
