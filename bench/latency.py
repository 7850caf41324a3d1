"""End-to-end latency at a fixed rate: direct, and through the proxy, in the same run.

    python3 bench/latency.py [--rate 2000] [--seconds 20] [--bootstrap HOST:PORT]

One producer writes the source topic at a fixed rate, each value carrying its send time; a
reader of the source (direct) and a reader of the destination (through `chaosbus proxy`,
run as its own process with its ledger) record receive time minus send time. Prints p50 and
p99 of both and the p99 the proxy adds. The first seconds are warm-up and not counted. This
machine is shared and noisy: read the figures of one run side by side, never across runs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import struct
import sys
import time
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from hdrh.histogram import HdrHistogram

from chaosbus.local.stack import LocalStack
from chaosbus.testing import create_topics

PARTITIONS = 3
WARMUP_S = 3.0


def now_us() -> int:
    return time.time_ns() // 1_000


async def produce_at(bootstrap: str, topic: str, rate: int, seconds: float) -> int:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, linger_ms=0)
    await producer.start()
    sent = 0
    loop = asyncio.get_running_loop()
    start = loop.time()
    try:
        while loop.time() - start < seconds:
            due = int((loop.time() - start) * rate)
            while sent < due:
                key = f"k{sent % 64}".encode()
                await producer.send(topic, value=struct.pack(">q", now_us()) + b"x" * 120, key=key)
                sent += 1
            await asyncio.sleep(0.001)
        await producer.flush()
    finally:
        await producer.stop()
    return sent


async def read_latencies(
    bootstrap: str, topic: str, histogram: HdrHistogram, stop: asyncio.Event, count_from_us: int
) -> None:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(tps)
        await consumer.seek_to_end(*tps)
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=50, max_records=10_000)
            received = now_us()
            for records in batches.values():
                for record in records:
                    sent_us = struct.unpack(">q", (record.value or b"")[:8])[0]
                    if sent_us >= count_from_us:
                        histogram.record_value(max(1, received - sent_us))
    finally:
        await consumer.stop()


async def main(bootstrap: str, rate: int, seconds: float) -> None:
    run = uuid.uuid4().hex[:8]
    source, destination = f"bench-lat-{run}.src", f"bench-lat-{run}.dst"
    await create_topics(bootstrap, [source, destination], PARTITIONS)
    proxy = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "chaosbus",
        "proxy",
        "--route",
        f"{source}:{destination}",
        "--bootstrap",
        bootstrap,
        "--group",
        f"bench-lat-{run}",
        "--from",
        "latest",
        stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    await asyncio.sleep(5)  # the proxy joins its group; readers start at the end offsets
    direct, proxied = HdrHistogram(1, 60_000_000, 3), HdrHistogram(1, 60_000_000, 3)
    stop = asyncio.Event()
    count_from = now_us() + int(WARMUP_S * 1e6)
    readers = [
        asyncio.create_task(read_latencies(bootstrap, source, direct, stop, count_from)),
        asyncio.create_task(read_latencies(bootstrap, destination, proxied, stop, count_from)),
    ]
    await asyncio.sleep(1)
    sent = await produce_at(bootstrap, source, rate, seconds)
    await asyncio.sleep(2)
    stop.set()
    await asyncio.gather(*readers)
    proxy.terminate()
    await proxy.wait()

    def ms(histogram: HdrHistogram, q: float) -> float:
        return float(histogram.get_value_at_percentile(q)) / 1000

    print(f"rate {rate} msg/s for {seconds:.0f} s: {sent} sent, warm-up {WARMUP_S:.0f} s excluded")
    print(
        f"direct   n={direct.get_total_count():>7}  p50 {ms(direct, 50):6.2f} ms  "
        f"p99 {ms(direct, 99):6.2f} ms"
    )
    print(
        f"proxied  n={proxied.get_total_count():>7}  p50 {ms(proxied, 50):6.2f} ms  "
        f"p99 {ms(proxied, 99):6.2f} ms"
    )
    print(
        f"added by the proxy: p50 {ms(proxied, 50) - ms(direct, 50):+.2f} ms, "
        f"p99 {ms(proxied, 99) - ms(direct, 99):+.2f} ms (target p99 <= +5 ms)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=2_000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--bootstrap")
    args = parser.parse_args()
    bootstrap = args.bootstrap or LocalStack.default().status().bootstrap
    asyncio.run(main(bootstrap, args.rate, args.seconds))
