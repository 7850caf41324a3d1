"""A broker of a three-node cluster killed under a running exactly-once interposer: nothing
lost, and every decision and count the same as in a run where no broker stopped."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from chaosbus.clients.connection import KafkaSettings
from chaosbus.contracts.ledger_record import LedgerRecord
from chaosbus.contracts.routes import Route
from chaosbus.injectors import FaultPlan, parse_fault_document
from chaosbus.local.stack import LocalStack, default_cache
from chaosbus.monitors import (
    ExtractorConfig,
    HeaderField,
    History,
    MonitorConfig,
    MonitorReport,
    check,
    compile_extractors,
)
from chaosbus.monitors.probes.kafka_reader import (
    EffectsConfig,
    read_effects,
    read_ledger,
    read_source,
)
from chaosbus.streams.exactly_once.parked import parked_topic
from chaosbus.streams.interposer import InterposerConfig
from chaosbus.streams.proxy import Proxy
from chaosbus.streams.topics import TopicAdmin
from chaosbus.testing import (
    Message,
    Received,
    create_topics,
    free_port_pair,
    free_port_run,
    ledger_of,
    poll_until,
    produce,
    read_all,
)

pytestmark = pytest.mark.integration

MESSAGES = 2_000
FAULTS = {
    "faults": [
        {"type": "drop", "probability": 0.1},
        {"type": "duplicate", "probability": 0.2, "copies": 1},
        # Held long enough that the broker dies while they sit in the parked topic.
        {"type": "delay", "probability": 0.1, "distribution": {"kind": "fixed", "ms": 4_000}},
    ]
}


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[LocalStack]:
    """A private three-node cluster: killing one of its nodes disturbs no other test."""
    stack = LocalStack(
        home=tmp_path,
        cache=default_cache(),
        kafka_port=free_port_run(6),
        redis_port=free_port_pair(),
        brokers=3,
    )
    started = time.monotonic()
    stack.up()
    print(f"\nthree-node cluster up in {time.monotonic() - started:.0f} s")
    try:
        yield stack
    finally:
        started = time.monotonic()
        stack.down()
        print(f"\ncluster down in {time.monotonic() - started:.0f} s")


class Run:
    """One interposer run over the shared source, into its own destination and ledger."""

    def __init__(self, bootstrap: str, source: str, name: str) -> None:
        self.bootstrap = bootstrap
        self.group = f"g-{name}"
        self.destination, self.ledger = f"{name}.dst", f"{name}.ledger"
        plan = FaultPlan.from_file(parse_fault_document(FAULTS, "test"), seed=7)
        config = InterposerConfig(
            kafka=KafkaSettings(bootstrap),
            run_id=name,
            group_id=self.group,
            ledger_topic=self.ledger,
            event_id_header="id",
        )
        route = Route(source, self.destination)
        self.proxy = Proxy(
            [route], config, deciders={route: plan}, create_topics=True, delivery="exactly-once"
        )
        self.source, self.run_id = source, name
        self.stopping = asyncio.Event()
        self.task: asyncio.Task[object] | None = None

    async def __aenter__(self) -> Run:
        self.task = asyncio.create_task(self.proxy.run(self.stopping))
        return self

    async def __aexit__(self, *_: object) -> None:
        self.stopping.set()
        assert self.task is not None
        await self.task

    async def ledger_count(self, at_least: int, *, timeout_s: float) -> int:
        """Wait until `at_least` ledger records are committed; how many are."""

        async def seen() -> int:
            return len(ledger_of(await read_all(self.bootstrap, self.ledger)))

        # Committed transactions of the interposer: nothing to await but the topic.
        return await poll_until(seen, lambda n: n >= at_least, timeout_s=timeout_s, every_s=0.5)

    async def verdict(self) -> MonitorReport:
        """The monitors' batch verdict, the destination taken as the service's effects: each
        event once (`once`), so every duplicate is a duplicate_effect, every drop excused."""
        extract = ExtractorConfig(event_id=HeaderField(header="id"))
        compiled = compile_extractors(extract)
        kafka = KafkaSettings(self.bootstrap)
        sources = [e for e in map(compiled, await read_source(kafka, self.source)) if e]
        ledger, _ = await read_ledger(KafkaSettings(self.bootstrap), self.run_id, topic=self.ledger)
        effects, _ = await read_effects(
            KafkaSettings(self.bootstrap),
            EffectsConfig(topic=self.destination, event_id={"header": "id"}, entity="record_key"),
        )
        config = MonitorConfig(source_topic=self.source, model="once", extract=extract)
        return check(History(sources, ledger, effects), config)

    async def outcome(self) -> tuple[list[LedgerRecord], list[Received]]:
        records = await read_all(self.bootstrap, self.ledger)
        ledger = ledger_of(records)
        return ledger, await read_all(self.bootstrap, self.destination)


def decisions(ledger: list[LedgerRecord]) -> dict[tuple[int, int], tuple[str, int]]:
    """Per source coordinate: the fault and how many copies went out."""
    return {(r.partition, r.offset): (r.fault, len(r.emissions)) for r in ledger}


async def leader_of(bootstrap: str, topic: str, partition: int) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
    finally:
        await admin.close()
    return next(int(p["leader"]) for p in described["partitions"] if p["partition"] == partition)


class TestBrokerLoss:
    async def test_a_killed_broker_changes_nothing(self, cluster: LocalStack) -> None:
        """SIGKILL of the source leader mid-run: every source message is downstream or ledgered
        as dropped, and ledger and destination equal those of an undisturbed run."""
        bootstrap = cluster.bootstrap
        source = "cluster.src"
        messages = [
            Message(
                key=f"k{i % 40}".encode(),
                value=json.dumps({"seq": i}).encode(),
                headers=(("id", f"e{i}".encode()),),
            )
            for i in range(MESSAGES)
        ]
        await create_topics(bootstrap, [source], 3)
        await produce(bootstrap, source, messages)

        started = time.monotonic()
        async with Run(bootstrap, source, "calm") as calm:
            assert await calm.ledger_count(MESSAGES, timeout_s=90) == MESSAGES
        calm_ledger, calm_out = await calm.outcome()
        calm_verdict = await calm.verdict()
        print(f"calm run: {time.monotonic() - started:.0f} s")

        leader = await leader_of(bootstrap, source, 0)
        victim = next(n for n in cluster.kafka_nodes() if n.node_id == leader)
        started = time.monotonic()
        async with Run(bootstrap, source, "storm") as storm:
            # A quarter through: the rest, and the delayed copies parked so far, come after.
            assert await storm.ledger_count(MESSAGES // 4, timeout_s=90) >= MESSAGES // 4
            held = storm.proxy.interposers[0].held
            assert await asyncio.to_thread(victim.kill)
            print(f"\nnode {victim.node_id} killed while {held} copies were held")
            assert await storm.ledger_count(MESSAGES, timeout_s=120) == MESSAGES
        storm_ledger, storm_out = await storm.outcome()
        storm_verdict = await storm.verdict()
        print(f"storm run: {time.monotonic() - started:.0f} s")

        # Nothing lost: each source message once in the ledger, and downstream unless dropped.
        sent = {m.value for m in messages}
        assert len(decisions(storm_ledger)) == MESSAGES
        dropped = {(r.partition, r.offset) for r in storm_ledger if r.dropped}
        by_value = Counter(r.value for r in storm_out)
        assert set(by_value) <= sent
        assert len(sent) - len(set(by_value)) == len(dropped)
        # The same seed decided the same for every message, with or without the broker.
        assert decisions(storm_ledger) == decisions(calm_ledger)
        assert by_value == Counter(r.value for r in calm_out)
        faults = Counter(r.fault for r in storm_ledger)
        assert faults == Counter(r.fault for r in calm_ledger)
        assert len(storm_out) == len(calm_out) == sum(len(r.emissions) for r in calm_ledger)
        print(f"faults {dict(faults)}; {len(storm_out)} copies downstream")
        # The monitors' verdict: the same anomalies, counted the same; nothing lost.
        assert storm_verdict.anomalies.counts == calm_verdict.anomalies.counts
        assert storm_verdict.anomalies.counts["lost_event"] == 0
        assert storm_verdict.anomalies.counts["duplicate_effect"] == faults["duplicate"]
        assert storm_verdict.coverage.judged == calm_verdict.coverage.judged == MESSAGES
        print(f"verdict anomalies {storm_verdict.anomalies.counts}")

        async with TopicAdmin(KafkaSettings(bootstrap)) as admin:
            internal = [storm.ledger, parked_topic(storm.group), storm.destination]
            assert await admin.replication_factors(internal) == dict.fromkeys(internal, 3)
