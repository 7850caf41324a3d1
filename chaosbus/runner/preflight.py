"""Preflight: everything a run needs is there, and nothing forbids it, before anything starts.

Broker reachable, every route's topics exist, the ledger topic exists, Redis reachable,
the kill switch released, every required sign-off (the file's and the namespace's
policy's) present for this exact file content and these targets (`run_targets`),
no other live interposer on a route's source (unless `--share-route`), and every check's
probe answering a read (`runner.probe_preflight`). `--dry-run`
stops here, after counting how much recent source traffic each fault's targeting would match.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiokafka import TopicPartition

from chaosbus.clients.connection import KafkaSettings
from chaosbus.clients.consumers import standalone_consumer
from chaosbus.clients.errors import BrokerUnreachable
from chaosbus.contracts.clock import wall_clock_ms
from chaosbus.contracts.ledger_record import LEDGER_TOPIC
from chaosbus.contracts.records import envelope_of
from chaosbus.contracts.routes import Route
from chaosbus.control.approvals import approval_state
from chaosbus.control.errors import ApprovalsMissing, KillSwitchEngaged
from chaosbus.control.plane import ControlPlane
from chaosbus.control.targets import Targets, targets_of
from chaosbus.errors import InvalidInput, Unreachable
from chaosbus.experiment.governance import Approvals
from chaosbus.experiment.spec import ExperimentSpec
from chaosbus.injectors.envelope import Envelope
from chaosbus.injectors.match import Payload, Verdict, evaluate
from chaosbus.monitors.probes.kind import ProbeContext
from chaosbus.runner.probe_preflight import check_probes
from chaosbus.runner.shared_routes import refuse_shared_routes
from chaosbus.settings import resolve_topic_policy
from chaosbus.streams.errors import TopicMissing
from chaosbus.streams.topics import TopicAdmin, TopicPolicy, check_routes


@dataclass
class PreflightResult:
    partitions: dict[str, int]
    probes: list[str] = field(default_factory=list)  # a line per check whose probe answered
    # Dry run only: per fault label, (messages matched, messages sampled).
    targeting: dict[str, tuple[int, int]] = field(default_factory=dict)

    def lines(self) -> list[str]:
        out = [f"topic {topic}: {count} partitions" for topic, count in self.partitions.items()]
        out += self.probes
        for label, (matched, sampled) in self.targeting.items():
            out.append(f"{label}: would match {matched} of the last {sampled} source messages")
        return out


def routes_of(spec: ExperimentSpec) -> list[Route]:
    return [
        Route(r.source, r.destination, id=r.id, dead_letter=r.on_undeliverable.dead_letter)
        for r in spec.routes
    ]


def topic_policy_of(spec: ExperimentSpec) -> TopicPolicy:
    """The file's `internal_topics` under the CHAOSBUS_TOPIC_* / ledger environment."""
    return resolve_topic_policy(file=spec.internal_topics.model_dump())


async def check_topics(
    spec: ExperimentSpec, kafka: KafkaSettings, *, create_destinations: bool = False
) -> dict[str, int]:
    """Partition counts of every route's topics; a missing destination is created with its
    source's partitions when asked (`--create-topics`, the same function `proxy` uses), and
    a creation the cluster refuses is one line naming the topic and the broker's reason."""
    policy = topic_policy_of(spec)
    try:
        async with TopicAdmin(kafka) as admin:
            counts = await check_routes(
                admin, routes_of(spec), create_destinations=create_destinations, policy=policy
            )
            await admin.ensure(LEDGER_TOPIC, policy.shape("ledger"))
    except BrokerUnreachable as exc:
        raise Unreachable(str(exc)) from exc
    except TopicMissing as exc:
        raise InvalidInput(str(exc)) from exc
    return counts


async def refuse_if_killed(plane: ControlPlane) -> None:
    state = await plane.kill_state()
    if state is not None:
        hint = "" if "`" in state.detail else "; an admin releases it with `chaosbus unkill`"
        raise KillSwitchEngaged(f"run refused: {state.detail}{hint}")


def run_targets(spec: ExperimentSpec, bootstrap: str, namespace: str) -> Targets:
    """What a run of `spec` touches, after flags and environment: what approvals bind."""
    return targets_of(
        bootstrap,
        namespace,
        [(r.source, r.destination) for r in spec.routes],
        [(h.name, h.upstream) for h in spec.http_routes],
    )


async def approvals_needed(spec: ExperimentSpec, plane: ControlPlane) -> Approvals | None:
    """The file's `approvals:` joined with the namespace's policy (`chaosbus control
    require-approvals`), which applies to every run whatever the file says."""
    policy = await plane.required_areas()
    if spec.approvals is None:
        return Approvals(required=policy) if policy else None
    extra = tuple(area for area in policy if area not in spec.approvals.required)
    if not extra:
        return spec.approvals
    return spec.approvals.model_copy(update={"required": (*spec.approvals.required, *extra)})


async def refuse_unapproved(
    spec: ExperimentSpec,
    plane: ControlPlane,
    content_sha256: str | None,
    label: str,
    targets: Targets | None = None,
) -> None:
    needed = await approvals_needed(spec, plane)
    if needed is None:
        return
    if content_sha256 is None:
        raise ApprovalsMissing(f"run refused: {label} requires approvals, its content is unknown")
    state = await approval_state(
        plane,
        content_sha256,
        needed.required,
        targets=targets,
        distinct=needed.distinct_users,
        now_ms=wall_clock_ms(),
    )
    state.refuse_if_missing(label)


async def preflight(
    spec: ExperimentSpec,
    kafka: KafkaSettings,
    plane: ControlPlane,
    *,
    content_sha256: str | None = None,
    label: str = "the experiment",
    share_route: bool = False,
    probes: ProbeContext | None = None,
    now_ms: int = 0,
    create_topics: bool = False,
) -> PreflightResult:
    """Refuse the run (one line, its exit code) for the first thing missing; `probes`: the
    context the run opens its checks' probes in, each read once here (None: not read)."""
    await refuse_if_killed(plane)
    targets = run_targets(spec, kafka.bootstrap, plane.keys.namespace)
    await refuse_unapproved(spec, plane, content_sha256, label, targets)
    if not spec.routes:
        return PreflightResult({})  # HTTP only: no topic to check, Kafka is not touched
    counts = await check_topics(spec, kafka, create_destinations=create_topics)
    if not share_route:
        await refuse_shared_routes(
            kafka,
            [r.source for r in spec.routes],
            own_group=spec.group_id,
            own_group_is_replicas=False,
        )
    answered = [] if probes is None else await check_probes(spec, probes, now_ms=now_ms)
    return PreflightResult(counts, probes=answered)


async def count_targeting(
    spec: ExperimentSpec, kafka: KafkaSettings, *, sample: int = 1_000
) -> dict[str, tuple[int, int]]:
    """Per fault, how many of the last `sample` messages of each source its `match` selects."""
    matched: Counter[str] = Counter()
    sampled = 0
    labels = [f"faults[{i}] ({f.name or f.type})" for i, f in enumerate(spec.faults)]
    async with standalone_consumer(kafka) as consumer:
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
