"""Benchmark of the batch checker: events per second on one core.

Generates N synthetic source events over K keys in memory, with the ledger records of
duplicate, reorder, delay and drop faults and source redeliveries, and the observations
of a correct service; then times `monitors.check` alone. Prints the rate and its ratio to
the 300,000 events/s target. A measurement, never an assertion: run it by hand,

    python bench/checker.py [--events 1000000] [--keys 10000] [--model entity] [--extract]

`--extract` also times the compiled extractors over the same events as JSON payloads.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import time

from chaosbus.contracts.ledger_record import LedgerEmission, LedgerRecord
from chaosbus.injectors.envelope import Envelope, SourceCoordinates
from chaosbus.monitors import (
    Effect,
    ExtractorConfig,
    History,
    MonitorConfig,
    Observation,
    SourceEvent,
    check,
)
from chaosbus.monitors.extractors import compile_extractors

TARGET_EVENTS_PER_S = 300_000
TOPIC = "bench.orders"
# Share of deliveries per fault; the rest pass.
FAULT_SHARES = (("duplicate", 0.05), ("reorder", 0.02), ("delay", 0.02), ("drop", 0.01))
REDELIVERY_SHARE = 0.01


def pick_fault(rng: random.Random) -> str:
    draw = rng.random()
    for fault, share in FAULT_SHARES:
        if draw < share:
            return fault
        draw -= share
    return "pass"


class LedgerFactory:
    """Ledger records as the interposer writes them, built fast enough for a million.

    Generation is not what is measured, so records are copied from one template and the
    emission tuples are shared between records with the same fault and send time.
    """

    def __init__(self) -> None:
        self._template = LedgerRecord.model_construct(
            run_id="bench",
            route=f"{TOPIC}->out",
            topic=TOPIC,
            partition=0,
            offset=0,
            event_id="",
            key_b64=None,
            fault="pass",
            emissions=(),
            decided_at_ms=0,
            completed_at_ms=0,
        )
        self._emissions: dict[tuple[str, int], tuple[LedgerEmission, ...]] = {}

    def record(self, event: SourceEvent, fault: str) -> LedgerRecord:
        delay = 200 if fault in ("delay", "reorder") else 0
        sent = event.timestamp_ms + delay
        emissions = self._emissions.get((fault, sent))
        if emissions is None:
            copies = {"duplicate": 2, "drop": 0}.get(fault, 1)
            emissions = self._emissions[(fault, sent)] = tuple(
                LedgerEmission.model_construct(
                    copy_number=c, planned_delay_ms=delay, sent_at_ms=sent
                )
                for c in range(copies)
            )
        return self._template.model_copy(
            update={
                "partition": event.coords[1],
                "offset": event.coords[2],
                "event_id": event.event_id,
                "fault": fault,
                "emissions": emissions,
                "decided_at_ms": event.timestamp_ms,
                "completed_at_ms": sent,
            }
        )


def generate(
    n_events: int, n_keys: int, model: str = "entity", seed: int = 7
) -> tuple[History, set[str]]:
    """A history of `n_events` deliveries, and the ids of events every delivery dropped."""
    rng = random.Random(seed)
    factory = LedgerFactory()
    sources: list[SourceEvent] = []
    ledger: list[LedgerRecord] = []
    versions = [0] * n_keys
    delivered: set[str] = set()
    offset = 0
    while len(sources) < n_events:
        key = rng.randrange(n_keys)
        versions[key] += 1
        event = SourceEvent(
            (TOPIC, key % 12, offset),
            f"e{offset}",
            f"order-{key}",
            versions[key],
            False,
            rng.randint(1, 100),
            1_000 + offset // 100,
        )
        deliveries = [event]
        if rng.random() < REDELIVERY_SHARE:
            offset += 1
            deliveries.append(SourceEvent((TOPIC, key % 12, offset), *_rest(event)))
        for delivery in deliveries:
            fault = pick_fault(rng)
            sources.append(delivery)
            ledger.append(factory.record(delivery, fault))
            if fault != "drop":
                delivered.add(event.event_id)
        offset += 1
    dropped = {e.event_id for e in sources} - delivered
    if model == "once":
        return History(sources, ledger, one_effect_each(sources, dropped), ()), dropped
    return History(sources, ledger, (), correct_observations(sources, dropped, model)), dropped


def _rest(event: SourceEvent) -> tuple[str, str, int | float | None, bool, int | float | None, int]:
    return (
        event.event_id,
        event.entity,
        event.version,
        event.is_delete,
        event.amount,
        event.timestamp_ms,
    )


def correct_observations(
    sources: list[SourceEvent], dropped: set[str], model: str
) -> list[Observation]:
    """What a correct service shows for every key, well after settling: the latest version
    (entity) or the sum over distinct delivered events (counter)."""
    latest: dict[str, int | float] = {}
    seen: set[str] = set()
    for event in sources:
        if event.event_id in dropped or event.event_id in seen or event.version is None:
            continue
        seen.add(event.event_id)
        if model == "counter":
            latest[event.entity] = latest.get(event.entity, 0) + (event.amount or 0)
        else:
            latest[event.entity] = max(latest.get(event.entity, 0), event.version)
    end = max(e.timestamp_ms for e in sources) + 60_000
    return [Observation(entity, end, value) for entity, value in latest.items()]


def one_effect_each(sources: list[SourceEvent], dropped: set[str]) -> list[Effect]:
    """A correct once-only service: one effect per distinct delivered event, 50 ms later."""
    effects: dict[str, Effect] = {}
    for event in sources:
        if event.event_id not in dropped and event.event_id not in effects:
            effects[event.event_id] = Effect(event.event_id, event.timestamp_ms + 50)
    return list(effects.values())


def time_extraction(sources: list[SourceEvent]) -> float:
    envelopes = [
        Envelope(
            key=e.entity.encode(),
            value=json.dumps({"id": e.event_id, "v": e.version, "amount": e.amount}).encode(),
            headers=(),
            timestamp_ms=e.timestamp_ms,
            source=SourceCoordinates(*e.coords),
        )
        for e in sources
    ]
    extract = compile_extractors(
        ExtractorConfig.model_validate(
            {
                "event_id": {"json": "$.id"},
                "version": {"json": "$.v"},
                "amount": {"json": "$.amount"},
            }
        )
    )
    started = time.perf_counter()
    for envelope in envelopes:
        extract(envelope)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--keys", type=int, default=10_000)
    parser.add_argument("--model", choices=["entity", "counter", "once"], default="entity")
    parser.add_argument("--extract", action="store_true")
    args = parser.parse_args()

    # The collector's garbage is not the checker's: generate without the cyclic GC, then
    # freeze what was built so the timed run pays only for its own allocations.
    gc.disable()
    history, dropped = generate(args.events, args.keys, args.model)
    gc.freeze()
    gc.enable()
    n = len(history.sources)
    print(f"generated {n:,} deliveries over {args.keys:,} keys, {len(dropped):,} dropped events")
    config = MonitorConfig(source_topic=TOPIC, model=args.model, settle_ms=1_000)
    started, cpu = time.perf_counter(), time.process_time()
    report = check(history, config)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    rate = n / elapsed
    print(
        f"check({args.model}): {elapsed:.2f} s wall ({cpu:.2f} s CPU), {rate:,.0f} events/s, "
        f"{rate / TARGET_EVENTS_PER_S:.2f}x the {TARGET_EVENTS_PER_S:,} events/s target"
    )
    # On a shared machine the wall clock counts other processes' turns too; the CPU time
    # of this one process is the steadier figure of the two.
    print(f"per CPU second: {n / cpu:,.0f} events/s")
    print(
        f"anomalies: {report.anomalies.total} bad units, "
        f"{report.anomalies.counts['dropped_expected']} dropped_expected"
    )
    if args.extract:
        spent = time_extraction(list(history.sources))
        print(f"extractors: {spent:.2f} s, {n / spent:,.0f} events/s")


if __name__ == "__main__":
    main()
