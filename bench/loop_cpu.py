"""The route loop's own CPU cost per message, without a broker (the in-memory transport).

    python3 bench/loop_cpu.py [--messages 100000] [--size 512] [--profile]

Runs, on `streams.memory`, a raw consume→produce loop with the proxy's batching (the
baseline: what any forwarder pays), then the route loop with at-least-once delivery in
passthrough without and with its ledger, and with the faults-on mix of bench/passthrough.py.
Prints CPU microseconds per message and ratios against the baseline, measured in one run
with `time.process_time`, so another process's load on this shared machine weighs less than
on the broker benchmarks. `--profile` prints the top functions of the faults-on run.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import time
from collections.abc import Awaitable, Callable

from mixes import FAULTS_ON, settled  # bench/ is on sys.path when a script here runs

from chaosbus.clients.connection import KafkaSettings
from chaosbus.contracts.routes import Route
from chaosbus.injectors import FaultPlan, parse_fault_document
from chaosbus.streams.at_least_once import AtLeastOnce
from chaosbus.streams.batches import send_in_batches
from chaosbus.streams.config import InterposerConfig
from chaosbus.streams.decider import Decider, PassThrough
from chaosbus.streams.delivery import RouteContext
from chaosbus.streams.interposer import RouteInterposer
from chaosbus.streams.memory import MemoryCluster, MemoryProducer, MemoryRecord

PARTITIONS = 3


def cluster_of(count: int, size: int) -> MemoryCluster:
    cluster = MemoryCluster()
    cluster.create("src", PARTITIONS)
    cluster.create("dst", PARTITIONS)
    cluster.create("ledger", PARTITIONS)
    payload = os.urandom(size)
    for i in range(count):
        cluster.append("src", i % PARTITIONS, f"k{i % 1000}".encode(), payload, (), i)
    return cluster


async def raw_loop(cluster: MemoryCluster, count: int) -> None:
    config = InterposerConfig(kafka=KafkaSettings("memory"), run_id="raw", group_id="raw")
    consumer = cluster.consumer_factory()(config)
    consumer.subscribe(["src"])
    producer = MemoryProducer(cluster)
    done = 0

    def acked(items: object, base: int | None, error: BaseException | None) -> None:
        return None

    while done < count:
        batches = await consumer.getmany(timeout_ms=0, max_records=5_000)
        for tp, records in batches.items():
            await send_in_batches(
                producer,
                "dst",
                tp.partition,
                records,
                _record_of,
                acked,
            )
            done += len(records)


def _record_of(
    record: MemoryRecord,
) -> tuple[bytes | None, bytes | None, int, list[tuple[str, bytes | None]]]:
    return record.key, record.value, record.timestamp, list(record.headers)


async def interposed(cluster: MemoryCluster, count: int, decider: Decider, ledger: bool) -> None:
    config = InterposerConfig(
        kafka=KafkaSettings("memory"),
        run_id="bench",
        group_id="bench",
        ledger_topic="ledger",
        ledger_enabled=ledger,
        max_held_messages=1_000_000,
    )
    context = RouteContext(Route("src", "dst"), config, keep_partition=True)
    delivery = AtLeastOnce(
        context,
        MemoryProducer(cluster),
        producer_factory=cluster.producer_factory(),
    )
    loop = RouteInterposer(context, decider, delivery, consumer_factory=cluster.consumer_factory())
    stopping = asyncio.Event()
    task = asyncio.create_task(loop.run(stopping))
    # Polled rarely, not awaited on an event: the wait must not cost the CPU being measured.
    while not settled(loop, count):  # noqa: ASYNC110
        await asyncio.sleep(0.005)
    stopping.set()
    await task


def cpu_us_per_message(run: Callable[[], Awaitable[None]], count: int) -> float:
    started = time.process_time()
    asyncio.run(run())
    return (time.process_time() - started) / count * 1e6


def faults_plan() -> FaultPlan:
    return FaultPlan.from_file(parse_fault_document(FAULTS_ON, "bench"), seed=7)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    count = args.messages

    def fresh() -> MemoryCluster:
        return cluster_of(count, args.size)

    runs: dict[str, Callable[[], Awaitable[None]]] = {}
    clusters = {name: fresh() for name in ("raw", "plain", "ledger", "faults")}
    runs["raw loop (baseline)"] = lambda: raw_loop(clusters["raw"], count)
    runs["passthrough, no ledger"] = lambda: interposed(
        clusters["plain"], count, PassThrough(), False
    )
    runs["passthrough with ledger"] = lambda: interposed(
        clusters["ledger"], count, PassThrough(), True
    )
    runs["faults-on with ledger"] = lambda: interposed(
        clusters["faults"], count, faults_plan(), True
    )
    results = {name: cpu_us_per_message(run, count) for name, run in runs.items()}
    baseline = results["raw loop (baseline)"]
    print(f"{count:,} messages of {args.size} B, {PARTITIONS} partitions, in-memory transport")
    for name, us in results.items():
        print(f"  {name:<26} {us:7.1f} us/msg CPU   {baseline / us:5.2f}x the raw loop's rate")
    if args.profile:
        profiler = cProfile.Profile()
        cluster = fresh()
        profiler.enable()
        asyncio.run(interposed(cluster, count, faults_plan(), True))
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
