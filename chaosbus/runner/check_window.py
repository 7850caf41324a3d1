"""`chaosbus check`: the monitors over a recorded window, after the fact.

    ledger (the run's records) ─┐
    source (the window's)       ├─► Collector(live=False) ─► verdict ─► RunFacts ─► assemble
    each check's probe, once   ─┘

The window is one run's: its ledger records name the source messages it decided; those
messages are read back from the source topic, each check's probe is read once now (opened
by the function a run uses, `runner.check_readers`), and the batch checker judges. Effects
are read whole (a topic from its beginning, a listing now) and only those naming an event
of the window are kept: other runs share the topic or table. No interposer, no faults.
The report comes from `assemble`, as a run's does: the same bounds, coverage, privacy step
and exit codes (0 held, 1 violated, 2 error, 4 inconclusive). A bound on
`time_to_recovery_s` needs the live series of a run: after the fact it is unknown, and
left out of the judgement, as are end-to-end latency bounds: a first sighting long after the
run measures when `check` looked, not the service.

The report's window is the recorded run's own (issue 20): its start, duration and phases
as the run history kept them (`recorded`), else the span of the run's ledger decisions
(no phases then: the ledger does not record them).
"""

from __future__ import annotations

from collections import Counter
from contextlib import AsyncExitStack

from chaosbus.clients.connection import KafkaSettings
from chaosbus.clients.errors import BrokerUnreachable
from chaosbus.contracts.clock import Clock, wall_clock_ms
from chaosbus.contracts.ledger_record import LedgerRecord
from chaosbus.errors import InvalidInput, Unreachable
from chaosbus.experiment.spec import ExperimentSpec
from chaosbus.injectors.blast import CAPS
from chaosbus.injectors.envelope import Envelope
from chaosbus.monitors.errors import MonitorError
from chaosbus.monitors.probes.kafka_reader import read_ledger, read_source
from chaosbus.monitors.probes.kind import ProbeContext
from chaosbus.monitors.reads import ReadLog, Reads
from chaosbus.monitors.redelivery import first_decisions, redelivered
from chaosbus.report.model import HypothesisResult, RunReport
from chaosbus.runner.assembly import assemble
from chaosbus.runner.check_readers import check_problem, open_check_reader
from chaosbus.runner.collector import Collector
from chaosbus.runner.facts import FactsSink, RunFacts, Window, new_salt, observed_checks


async def check_window(
    spec: ExperimentSpec,
    *,
    kafka: KafkaSettings,
    redis_url: str,
    run_id: str,
    key_prefix: str = "",
    actor: str = "",
    clock: Clock = wall_clock_ms,
    on_facts: FactsSink | None = None,
    recorded: RunFacts | None = None,
) -> RunReport:
    """`recorded`: the run's facts as its history entry kept them: its start, end and
    phases, and its steady state before (judged live, at the end of its warm-up)."""
    ledger, window = await read_window(spec, kafka, run_id)
    collector = Collector(spec.monitor, live=False)
    for record in ledger:
        collector.feed_ledger(record)
    for envelope in window:
        collector.feed_source(envelope)
    now = clock()
    probes = ProbeContext(kafka, redis_url, key_prefix, from_now=False)
    reads = ReadLog(c.name for c in spec.monitor.checks)
    async with AsyncExitStack() as stack:
        for spec_check in spec.monitor.checks:
            reader = await open_check_reader(stack, spec_check, probes)
            try:
                reading = await reader.read(collector.entities(spec_check.name), now)
            except MonitorError as exc:
                raise check_problem(spec_check.name, exc) from exc
            reads.record(spec_check.name, None, final=True)  # the one read is the final one
            collector.feed_reading(spec_check.name, reading, force=True)
    facts = window_facts(
        spec,
        collector,
        ledger,
        run_id=run_id,
        actor=actor,
        now_ms=now,
        reads=reads.facts(),
        window=recorded_window(recorded) if recorded else ledger_window(ledger, now),
        before=recorded.before if recorded else (),
    )
    if on_facts is not None:
        on_facts(facts)
    return assemble(spec, facts)


async def read_window(
    spec: ExperimentSpec, kafka: KafkaSettings, run_id: str
) -> tuple[list[LedgerRecord], list[Envelope]]:
    """The run's ledger records for the source topic, and the source messages they decided."""
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
    return ledger, window


def recorded_window(recorded: RunFacts) -> Window:
    """The recorded run's start, end and phases; its live timeline's points (latency,
    rates) are left with the run."""
    w = recorded.window
    return Window(started_ms=w.started_ms, ended_ms=w.ended_ms, phases=w.phases)


def ledger_window(ledger: list[LedgerRecord], now_ms: int) -> Window:
    """The recorded run as its ledger shows it: first decision to last completion."""
    if not ledger:
        return Window.at(now_ms)
    return Window(
        started_ms=min(r.decided_at_ms for r in ledger),
        ended_ms=max(r.completed_at_ms for r in ledger),
    )


def window_facts(
    spec: ExperimentSpec,
    collector: Collector,
    ledger: list[LedgerRecord],
    *,
    run_id: str,
    actor: str,
    now_ms: int,
    reads: Reads | None = None,
    window: Window | None = None,
    before: tuple[HypothesisResult, ...] = (),
) -> RunFacts:
    """What a check observed at `now_ms`: the batch verdict of each check, and the faults
    as the ledger decided them (a message decided again after an interposer restart is one
    decision, not two faults), and what its probes could read (`reads`). A check draws its
    own salt under `privacy: hashed`."""
    decisions = first_decisions(ledger)
    suppressed = Counter(record.reason for record in decisions if record.reason in CAPS)
    return RunFacts(
        run_id=run_id,
        actor=actor,
        window=window or Window.at(now_ms),
        checks=observed_checks(collector.verdict(now_ms), new_salt(spec.privacy)),
        faults=dict(Counter(record.fault for record in decisions)),
        faults_suppressed={cap: suppressed[cap] for cap in CAPS},
        redelivered=redelivered(ledger),
        reads=reads or Reads(),
        live=False,
        before=before,
    )
