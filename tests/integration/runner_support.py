"""Shared set-up of the runner's integration tests: topics, a demo service, traffic, a run."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from chaosbus.clients.connection import KafkaSettings
from chaosbus.contracts.ledger_record import LedgerRecord
from chaosbus.control import operations
from chaosbus.experiment import ExperimentSpec, with_overrides
from chaosbus.monitors.probes.kafka_reader import read_ledger, read_source
from chaosbus.report.model import RunReport
from chaosbus.runner import Progress, RunOptions, run_experiment
from chaosbus.scenarios import load_experiment_or_scenario
from chaosbus.streams.topics import TopicAdmin
from chaosbus.testing import Cluster, create_topics, poll_until, settings_of
from chaosbus_demo.events import OrderEvent
from chaosbus_demo.services import Kind, LedgerService, ServiceConfig
from chaosbus_demo.traffic import KafkaSink, order_events, play

SHORT = {"warmup_s": 1, "inject_s": 3, "recover_s": 3}
# The demo services' order as they hold it (chaosbus_demo/ledgers.py), as the scenarios
# declare it: the newest version wins, a cancel deletes it.
ORDER_STATE_CHECK: dict[str, Any] = {
    "name": "order-state",
    "model": "entity",
    "extract": {
        "event_id": {"json": "$.event_id"},
        "entity": "record_key",
        "version": {"json": "$.version"},
        "delete": {"path": "$.type", "equals": "cancelled"},
    },
    "probe": {
        "kind": "redis",
        "key": "order:{entity}",
        "field": "version",
        "deleted_field": "deleted",
    },
}


@dataclass
class Stage:
    """One test's topics, service and control-plane namespace."""

    kafka: KafkaSettings
    redis_url: str
    source: str
    destination: str
    prefix: str
    namespace: str

    def spec(self, name: str, **overrides: Any) -> ExperimentSpec:
        schedule = overrides.pop("schedule", SHORT)
        return with_overrides(
            load_experiment_or_scenario(name),
            source=self.source,
            destination=self.destination,
            schedule=schedule,
            group_id=f"g-{self.source}",
            settle_ms=overrides.pop("settle_ms", 1_500),
            **overrides,
        )

    def options(self, **extra: Any) -> RunOptions:
        return RunOptions(
            kafka=self.kafka,
            redis_url=self.redis_url,
            actor="integration-test",
            key_prefix=self.prefix,
            control_namespace=self.namespace,
            **extra,
        )


async def ready_topics(kafka: Cluster, topics: list[str], partitions: int) -> None:
    """Create topics and wait until the broker describes them (creation is asynchronous)."""
    await create_topics(kafka, topics, partitions)
    async with TopicAdmin(settings_of(kafka)) as admin:
        # Topic metadata propagates in the broker's own time; there is nothing to await.
        counts = await poll_until(
            lambda: admin.partition_counts(topics),
            lambda found: set(topics) <= found.keys(),
            timeout_s=10,
            every_s=0.1,
        )
    if not set(topics) <= counts.keys():
        raise TimeoutError(f"topics {topics} not visible")


async def make_stage(kafka: Cluster, redis_url: str, topic: str, partitions: int = 3) -> Stage:
    source, destination = f"{topic}.src", f"{topic}.dst"
    await ready_topics(kafka, [source, destination], partitions)
    tag = uuid.uuid4().hex[:8]
    namespace = f"chaosbus-test-{tag}"
    await operations.init(redis_url, "test", namespace=namespace)
    return Stage(settings_of(kafka), redis_url, source, destination, f"t{tag}:", namespace)


@contextlib.asynccontextmanager
async def service_and_traffic(
    stage: Stage,
    kind: Kind,
    *,
    events: int = 200,
    rate: float = 60.0,
    go: asyncio.Event | None = None,
    **service: Any,
) -> AsyncIterator[LedgerService]:
    """A demo service on the destination and seeded order traffic on the source.

    The traffic starts at once, or when `go` is set (see `started_by`). `service` passes
    options to `ServiceConfig` (store, effects_topic, http_port, hang_on).
    """
    config = ServiceConfig(
        kind=kind,
        topic=stage.destination,
        kafka=stage.kafka,
        redis_url=stage.redis_url,
        prefix=stage.prefix,
        group_id=service_group(stage),
        **service,
    )
    stop = asyncio.Event()
    async with LedgerService(config) as service, KafkaSink(stage.kafka, stage.source) as sink:
        running = asyncio.create_task(service.run(stop))
        playing = asyncio.create_task(_play_when(go, traffic(stage, events), sink, rate))
        try:
            yield service
        finally:
            stop.set()
            playing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await playing
            await running


async def _play_when(
    go: asyncio.Event | None, events: list[OrderEvent], sink: KafkaSink, rate: float
) -> None:
    if go is not None:
        await go.wait()
    await play(events, sink, rate=rate)


def started_by(go: asyncio.Event) -> Callable[[Progress], None]:
    """An `on_progress` that sets `go` once the run is live: traffic then meets a running
    interposer and monitors, rather than a backlog decided before they started."""

    def on_progress(progress: Progress) -> None:
        if progress.phase != "preflight":
            go.set()

    return on_progress


def service_group(stage: Stage) -> str:
    """The consumer group of the stage's demo service."""
    return f"svc-{stage.destination}"


def traffic(stage: Stage, events: int = 200) -> list[OrderEvent]:
    """The events `service_and_traffic` plays: the seed and the stage's namespace fix them."""
    return order_events(events, seed=3, namespace=stage.prefix)


async def run_against(
    stage: Stage, kind: Kind, spec: ExperimentSpec, *, events: int = 200, **options: Any
) -> RunReport:
    """`spec` run over seeded traffic that starts once the run is live: traffic played
    before the interposer reads would be decided as one backlog in the warm-up, and what
    the faults hit would depend on how long the start took on a loaded machine."""
    go = asyncio.Event()
    async with service_and_traffic(stage, kind, events=events, go=go):
        return await run_experiment(spec, stage.options(on_progress=started_by(go), **options))


async def ledger_of(stage: Stage, run_id: str) -> list[LedgerRecord]:
    """The run's ledger records of the stage's source: what exact expectations derive from."""
    records, _ = await read_ledger(stage.kafka, run_id, source_topic=stage.source)
    return records


async def duplicated_payers(stage: Stage, ledger: list[LedgerRecord]) -> set[str]:
    """Customers with a payment the interposer sent more than once: the units a service
    that adds every delivery must get wrong (`duplicate_effect` on the counter check)."""
    copied = {(r.topic, r.partition, r.offset) for r in ledger if len(r.emissions) > 1}
    payers = set()
    for envelope in await read_source(stage.kafka, stage.source):
        source = envelope.source
        if (source.topic, source.partition, source.offset) not in copied:
            continue
        event = json.loads(envelope.value or b"{}")
        if event.get("amount"):
            payers.add(str(event["customer"]))
    return payers
