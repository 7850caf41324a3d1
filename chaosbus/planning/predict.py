"""The dry run's prediction (pure): an experiment's fault plan over a window, in memory.

For each route, a `FaultPlan` is built exactly as the run builds it (`runner.topic_side`:
the experiment's faults, blast radius and seed, the route's id), so a message decides as it
will in the run: decisions are keyed on (seed, route id, partition, offset) and every piece
of injector state is per partition. The window's records go through it in the order the
recorder merged them (each partition in offset order), through the one Record→Envelope
(`contracts.records.envelope_of`), at full intensity.

The clock is the records' own timestamps (never going back): what live traffic at that pace
would meet. It places the peak of held copies, what time-based faults and caps
(`max_faults_per_s`, outages, stalls) do, and when a cap first binds. A copy is held from
its decision until its release time, or while the plan keeps it (a reorder window).

Exact for the run (the same counts by fault type and name as its ledger on that window)
when the run decides every message of the window at full intensity and no cap's counter is
shared across partitions in a different order than here: with one partition, or caps that
do not bind. A ramp lowers early probabilities: the prediction is at full intensity.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple

from chaosbus.contracts.records import envelope_of
from chaosbus.contracts.routes import Route
from chaosbus.injectors.blast import CAPS
from chaosbus.injectors.envelope import Emission
from chaosbus.injectors.plan import COUNT_KEYS, FaultPlan
from chaosbus.injectors.spec import BlastRadius, Fault
from chaosbus.monitors.extractors import Extractor
from chaosbus.planning.summary import CapBinding, RoutePlan, Touched
from chaosbus.traffic.records import TrafficRecord


class _Consumed(NamedTuple):
    """A recorded message as the route loop's consumer would hand it over."""

    topic: str
    partition: int
    offset: int
    timestamp: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes | None]]
    serialized_key_size: int
    serialized_value_size: int


def consumed(topic: str, record: TrafficRecord) -> _Consumed:
    return _Consumed(
        topic,
        record.partition,
        record.offset,
        record.timestamp_ms,
        record.key,
        record.value,
        record.headers,
        len(record.key or b""),
        len(record.value or b""),
    )


class _Held:
    """Copies held: released at their time (a heap), or kept inside the plan."""

    def __init__(self) -> None:
        self._due: list[tuple[int, int]] = []  # (release time, bytes)
        self.due_bytes = 0
        self.peak = 0
        self.peak_bytes = 0
        self.peak_at: int | None = None

    def release_until(self, now: int) -> None:
        while self._due and self._due[0][0] <= now:
            self.due_bytes -= heapq.heappop(self._due)[1]

    def schedule(self, emissions: Sequence[Emission], now: int) -> None:
        for emission in emissions:
            if emission.release_at_ms > now:
                size = emission.envelope.size
                heapq.heappush(self._due, (emission.release_at_ms, size))
                self.due_bytes += size

    def note(self, in_plan: int, in_plan_bytes: int, now: int) -> None:
        held = len(self._due) + in_plan
        if held > self.peak:
            self.peak, self.peak_at = held, now
        self.peak_bytes = max(self.peak_bytes, self.due_bytes + in_plan_bytes)


def predict_route(
    route: Route,
    records: Sequence[TrafficRecord],
    *,
    faults: Sequence[Fault],
    blast_radius: BlastRadius,
    seed: int,
    extractors: dict[str, Extractor] | None = None,
    ended_by: str = "end",
) -> RoutePlan:
    """Run the route's fault plan over `records` and say what the run would do."""
    plan = FaultPlan(faults, blast_radius, seed, route_id=route.route_id)
    extractors = extractors or {}
    held = _Held()
    by_name: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    keys_seen: set[bytes | None] = set()
    keys_touched: set[bytes | None] = set()
    entities_seen: dict[str, set[str]] = {name: set() for name in extractors}
    entities_touched: dict[str, set[str]] = {name: set() for name in extractors}
    caps: dict[str, CapBinding] = {}
    copies = 0
    in_plan_bytes = 0
    clock = 0
    for record in records:
        envelope = envelope_of(consumed(route.source, record))
        now = clock = max(clock, record.timestamp_ms)
        held.release_until(now)
        decision = plan.decide(envelope, now)
        released = plan.poll(now)
        in_plan_bytes += decision.held * envelope.size - sum(e.envelope.size for e in released)
        held.schedule((*decision.emissions, *released), now)
        held.note(plan.held_count, max(in_plan_bytes, 0), now)
        copies += len(decision.emissions) + decision.held
        keys_seen.add(envelope.key)
        entities = {name: extract(envelope) for name, extract in extractors.items()}
        for name, event in entities.items():
            if event is not None:
                entities_seen[name].add(event.entity)
        if decision.fault_name is not None:
            by_name[decision.fault_name] += 1
            keys_touched.add(envelope.key)
            for name, event in entities.items():
                if event is not None:
                    entities_touched[name].add(event.entity)
        elif decision.reason is not None:
            reasons[decision.reason] += 1
        if decision.reason in CAPS:
            _bind(caps, decision.reason, now, envelope.source.partition, envelope.source.offset)
    counts = plan.counts
    return RoutePlan(
        route=route.name,
        route_id=route.route_id,
        messages=len(records),
        first_ms=records[0].timestamp_ms if records else None,
        last_ms=records[-1].timestamp_ms if records else None,
        ended_by=ended_by,
        faults={k: counts[k] for k in COUNT_KEYS if k != "non_json"},
        by_name=dict(by_name),
        reasons=dict(reasons),
        copies=copies,
        keys=Touched(touched=len(keys_touched), seen=len(keys_seen)),
        entities={
            name: Touched(touched=len(entities_touched[name]), seen=len(entities_seen[name]))
            for name in extractors
        },
        peak_held=held.peak,
        peak_held_bytes=held.peak_bytes,
        peak_at_ms=held.peak_at,
        caps=tuple(caps[cap] for cap in CAPS if cap in caps),
    )


def _bind(caps: dict[str, CapBinding], cap: str, now: int, partition: int, offset: int) -> None:
    found = caps.get(cap)
    if found is None:
        caps[cap] = CapBinding(
            cap=cap, refused=1, first_at_ms=now, first_partition=partition, first_offset=offset
        )
    else:
        caps[cap] = found.model_copy(update={"refused": found.refused + 1})
