"""Throughput of the interposer against baselines measured in the same run, on the local broker.

    python3 bench/passthrough.py [--messages 200000] [--size 512] [--bootstrap HOST:PORT]
        [--commit-intervals 1000,200,100,50]

Prints msgs/s for: the broker's own produce and consume rates (the upper bound), a raw
aiokafka consume→produce loop with the proxy's batching (the baseline), the proxy in
passthrough with and without its ledger, and the proxy with the faults-on mix of the faults
issue (duplicate 10 %, delay 10 % uniform 0-500 ms, reorder window 10, drop 1 %), with the
peak memory its held messages took. Ratios are against the raw loop. `--commit-intervals`
measures passthrough with ledger once per at-least-once commit interval instead of the
no-ledger and faults-on rows (how much the re-delivery window costs, decision 0120). This
machine is shared and noisy: compare ratios from one run, never absolute numbers across runs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from mixes import FAULTS_ON, settled  # bench/ is on sys.path when a script here runs

from chaosbus.clients.connection import KafkaSettings
from chaosbus.contracts.routes import Route
from chaosbus.injectors import FaultPlan, parse_fault_document
from chaosbus.local.stack import LocalStack
from chaosbus.streams.config import DEFAULT_COMMIT_INTERVAL_MS
from chaosbus.streams.interposer import InterposerConfig
from chaosbus.streams.proxy import Proxy
from chaosbus.testing import create_topics

PARTITIONS = 3
BATCH = 5_000


def producer_for(bootstrap: str) -> AIOKafkaProducer:
    # The same settings as the proxy's producer, so the baseline differs only in logic.
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap, enable_idempotence=True, linger_ms=5, max_batch_size=256 * 1024
    )


async def fill(bootstrap: str, topic: str, count: int, size: int) -> float:
    payload = os.urandom(size)
    producer = producer_for(bootstrap)
    await producer.start()
    started = time.perf_counter()
    try:
        pending = []
        for i in range(count):
            pending.append(await producer.send(topic, value=payload, key=f"k{i % 1000}".encode()))
        await producer.flush()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return count / (time.perf_counter() - started)


async def consume_only(bootstrap: str, topic: str, count: int) -> float:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"bench-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    seen = 0
    started = time.perf_counter()
    try:
        while seen < count:
            batches = await consumer.getmany(timeout_ms=100, max_records=BATCH)
            seen += sum(len(records) for records in batches.values())
    finally:
        await consumer.stop()
    return count / (time.perf_counter() - started)


async def raw_loop(bootstrap: str, source: str, destination: str, count: int) -> float:
    consumer = AIOKafkaConsumer(
        source,
        bootstrap_servers=bootstrap,
        group_id=f"raw-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    producer = producer_for(bootstrap)
    await asyncio.gather(consumer.start(), producer.start())
    forwarded = 0
    started = time.perf_counter()
    try:
        while forwarded < count:
            batches = await consumer.getmany(timeout_ms=100, max_records=BATCH)
            for tp, records in batches.items():
                for r in records:
                    await producer.send(
                        destination,
                        value=r.value,
                        key=r.key,
                        partition=tp.partition,
                        timestamp_ms=r.timestamp,
                        headers=list(r.headers),
                    )
                forwarded += len(records)
            await consumer.commit()
        await producer.flush()
    finally:
        await asyncio.gather(consumer.stop(), producer.stop())
    return count / (time.perf_counter() - started)


async def proxy_run(
    bootstrap: str,
    source: str,
    destination: str,
    count: int,
    *,
    ledger: bool,
    faults: bool,
    commit_interval_ms: int = DEFAULT_COMMIT_INTERVAL_MS,
) -> tuple[float, int]:
    route = Route(source, destination)
    deciders = {}
    if faults:
        deciders[route] = FaultPlan.from_file(parse_fault_document(FAULTS_ON, "bench"), seed=1)
    config = InterposerConfig(
        kafka=KafkaSettings(bootstrap),
        run_id="bench",
        group_id=f"proxy-{uuid.uuid4().hex[:6]}",
        ledger_enabled=ledger,
        ledger_topic=f"{destination}.ledger",
        commit_interval_ms=commit_interval_ms,
    )
    proxy = Proxy([route], config, deciders=deciders, create_topics=True)
    stopping = asyncio.Event()
    started = time.perf_counter()
    task = asyncio.create_task(proxy.run(stopping))
    peak_bytes = 0
    # Done when every source message is decided and nothing is in flight (forwarded,
    # acknowledged, ledgered) but what the faults still hold; the stop then drains that,
    # and the drain is part of the measured time. Read in process: polling the broker from
    # this event loop would slow the proxy being measured.
    await proxy.started.wait()
    interposer = proxy.interposers[0]
    while not settled(interposer, count):
        peak_bytes = max(peak_bytes, interposer.held_bytes)
        await asyncio.sleep(0.05)
    stopping.set()
    await task
    elapsed = time.perf_counter() - started
    return count / elapsed, peak_bytes


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--bootstrap")
    parser.add_argument("--commit-intervals", help="comma-separated ms, e.g. 1000,200,100,50")
    args = parser.parse_args()
    bootstrap = args.bootstrap or (await asyncio.to_thread(LocalStack.default().up)).bootstrap
    n = args.messages
    run = uuid.uuid4().hex[:6]
    source = f"bench-{run}.src"
    await create_topics(bootstrap, [source, f"bench-{run}.raw"], PARTITIONS)

    produce_rate = await fill(bootstrap, source, n, args.size)
    consume_rate = await consume_only(bootstrap, source, n)
    raw = await raw_loop(bootstrap, source, f"bench-{run}.raw", n)

    def dst(name: str) -> str:
        return f"bench-{run}.{name}"

    print(f"messages: {n} x {args.size} B over {PARTITIONS} partitions")
    rows = [
        ("broker produce (upper bound)", produce_rate),
        ("broker consume (upper bound)", consume_rate),
        ("raw aiokafka loop (baseline)", raw),
    ]
    if args.commit_intervals:
        for interval in (int(text) for text in args.commit_intervals.split(",")):
            rate, _ = await proxy_run(
                bootstrap,
                source,
                dst(f"c{interval}"),
                n,
                ledger=True,
                faults=False,
                commit_interval_ms=interval,
            )
            rows.append((f"passthrough + ledger, commit {interval} ms", rate))
        for name, rate in rows:
            print(f"{name:36} {rate:10,.0f} msgs/s   {rate / raw:5.2f} x raw")
        return

    no_ledger, _ = await proxy_run(bootstrap, source, dst("p0"), n, ledger=False, faults=False)
    with_ledger, _ = await proxy_run(bootstrap, source, dst("p1"), n, ledger=True, faults=False)
    faulty, peak = await proxy_run(bootstrap, source, dst("p2"), n, ledger=True, faults=True)
    rows += [
        ("proxy passthrough, no ledger", no_ledger),
        ("proxy passthrough + ledger", with_ledger),
        ("proxy faults-on + ledger", faulty),
    ]
    for name, rate in rows:
        print(f"{name:32} {rate:10,.0f} msgs/s   {rate / raw:5.2f} x raw")
    print(f"faults-on peak held memory: {peak / 1024 / 1024:.1f} MiB")
    print("targets: passthrough >= 0.80 x raw; faults-on >= 0.60 x raw")


if __name__ == "__main__":
    asyncio.run(main())
