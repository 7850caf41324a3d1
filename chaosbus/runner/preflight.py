"""Preflight: everything a run needs is there, and nothing forbids it, before anything starts.

Broker reachable, every route's topics exist, the ledger topic exists, Redis reachable and
the kill switch not engaged. `--dry-run` stops here, after counting how much recent source
traffic each fault's targeting would match.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiokafka import TopicPartition

from chaosbus.control.errors import KillSwitchEngaged
from chaosbus.control.plane import ControlPlane
from chaosbus.errors import InvalidInput, Unreachable
from chaosbus.experiment.spec import ExperimentSpec
from chaosbus.runner.readers import envelope_of
from injectors.envelope import Envelope
from injectors.match import Payload, Verdict, evaluate
from streams.consumers import standalone_consumer
from streams.errors import BrokerUnreachable, TopicMissing
from streams.ledger_record import LEDGER_TOPIC
from streams.proxy import LEDGER_PARTITIONS
from streams.routes import Route
from streams.topics import TopicAdmin, check_routes


@dataclass
class PreflightResult:
    partitions: dict[str, int]
    # Dry run only: per fault label, (messages matched, messages sampled).
    targeting: dict[str, tuple[int, int]] = field(default_factory=dict)

    def lines(self) -> list[str]:
        out = [f"topic {topic}: {count} partitions" for topic, count in self.partitions.items()]
        for label, (matched, sampled) in self.targeting.items():
            out.append(f"{label}: would match {matched} of the last {sampled} source messages")
        return out


def routes_of(spec: ExperimentSpec) -> list[Route]:
    return [
        Route(r.source, r.destination, id=r.id, dead_letter=r.on_undeliverable.dead_letter)
        for r in spec.routes
    ]


async def check_topics(spec: ExperimentSpec, bootstrap: str) -> dict[str, int]:
    try:
        async with TopicAdmin(bootstrap) as admin:
            counts = await check_routes(admin, routes_of(spec), create_destinations=False)
            await admin.create(LEDGER_TOPIC, LEDGER_PARTITIONS)
    except BrokerUnreachable as exc:
        raise Unreachable(str(exc)) from exc
    except TopicMissing as exc:
        raise InvalidInput(str(exc)) from exc
    return counts


async def refuse_if_killed(plane: ControlPlane) -> None:
    state = await plane.kill_state()
    if state is not None:
        raise KillSwitchEngaged(f"{state.describe()}; run `chaosbus unkill` to release it")


async def preflight(spec: ExperimentSpec, bootstrap: str, plane: ControlPlane) -> PreflightResult:
    await refuse_if_killed(plane)
    return PreflightResult(await check_topics(spec, bootstrap))


async def count_targeting(
    spec: ExperimentSpec, bootstrap: str, *, sample: int = 1_000
) -> dict[str, tuple[int, int]]:
    """Per fault, how many of the last `sample` messages of each source its `match` selects."""
    matched: Counter[str] = Counter()
    sampled = 0
    labels = [f"faults[{i}] ({f.name or f.type})" for i, f in enumerate(spec.faults)]
    async with standalone_consumer(bootstrap) as consumer:
        for route in spec.routes:
            for envelope in await _recent(consumer, route.source, sample):
                sampled += 1
                payload = Payload(envelope.value)
                for label, fault in zip(labels, spec.faults, strict=True):
                    if evaluate(fault.match, envelope, payload) is Verdict.MATCH:
                        matched[label] += 1
    return {label: (matched[label], sampled) for label in labels}


async def _recent(consumer: Any, topic: str, sample: int) -> list[Envelope]:
    c = consumer
    partitions = sorted(c.partitions_for_topic(topic) or ())
    tps = [TopicPartition(topic, p) for p in partitions]
    if not tps:
        return []
    ends = await c.end_offsets(tps)
    begins = await c.beginning_offsets(tps)
    per = max(sample // len(tps), 1)
    c.assign(tps)
    for tp in tps:
        c.seek(tp, max(begins[tp], ends[tp] - per))
    out: list[Envelope] = []
    remaining = {tp for tp in tps if ends[tp] > begins[tp]}
    while remaining:
        batches = await c.getmany(timeout_ms=500, max_records=5_000)
        if not batches:
            break
        for tp, records in batches.items():
            out.extend(envelope_of(r) for r in records if r.offset < ends[tp])
            if records and records[-1].offset >= ends[tp] - 1:
                remaining.discard(tp)
    return out
