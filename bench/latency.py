"""End-to-end latency at a fixed rate: direct, and through the proxy, in the same run.

    python3 bench/latency.py [--rate 2000] [--seconds 20] [--floor] [--bootstrap HOST:PORT]

One producer writes the source topic, each value carrying its send time; a reader of the
source (direct) and a reader of the destination (through `chaosbus proxy`, run as its own
process with its ledger) record receive time minus send time. Prints p50 and p99 of both
and what the proxy adds. `--floor` adds a third path in the same run: the least a Python
topic interposer does (read a batch, send it as whole batches) with the proxy's own client
settings, in its own process; what the proxy adds beyond it is the proxy's own logic.

The measurement starts when every path flows: the producer sends a probe every 50 ms until
each reader has seen one (the proxy has joined its group, nothing is guessed with a sleep),
then the fixed rate; the first seconds of the rate are warm-up and not counted. Both legs of
the proxied path are produced with the settings they have in service (this producer for the
source, the proxy's for the destination), and every reader has the same settings.

This machine is shared and noisy: the load average is printed with the figures, and so is
the CPU the proxy spent per message, which the load does not change. Read the figures of one
run side by side, never across runs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import struct
import sys
import time
import uuid
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from hdrh.histogram import HdrHistogram

from chaosbus.clients.connection import KafkaSettings
from chaosbus.local.stack import LocalStack
from chaosbus.streams.batches import send_in_batches
from chaosbus.streams.clients import group_consumer, route_producer
from chaosbus.streams.config import InterposerConfig
from chaosbus.testing import create_topics

PARTITIONS = 3
WARMUP_S = 3.0
PROBE_INTERVAL_S = 0.05
READY_TIMEOUT_S = 120.0
PAYLOAD = b"x" * 120


def now_us() -> int:
    return time.time_ns() // 1_000


class Window:
    """Which send times count: none until the rate has run for the warm-up."""

    def __init__(self) -> None:
        self.count_from_us = sys.maxsize


async def produce(
    bootstrap: str, topic: str, rate: int, seconds: float, flowing: asyncio.Event, window: Window
) -> int:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, linger_ms=0)
    await producer.start()
    sent = 0

    async def send() -> None:
        nonlocal sent
        value = struct.pack(">q", now_us()) + PAYLOAD
        await producer.send(topic, value=value, key=f"k{sent % 64}".encode())
        sent += 1

    loop = asyncio.get_running_loop()
    try:
        while not flowing.is_set():
            await send()
            await asyncio.sleep(PROBE_INTERVAL_S)
        start, base = loop.time(), sent
        window.count_from_us = now_us() + int(WARMUP_S * 1e6)
        while loop.time() - start < seconds:
            due = base + int((loop.time() - start) * rate)
            while sent < due:
                await send()
            await asyncio.sleep(0.001)
        await producer.flush()
    finally:
        await producer.stop()
    return sent - base


async def read_latencies(
    bootstrap: str,
    topic: str,
    histogram: HdrHistogram,
    first: asyncio.Event,
    window: Window,
    stop: asyncio.Event,
) -> None:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)  # the topics are new: nothing is missed
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=50, max_records=10_000)
            received = now_us()
            for records in batches.values():
                first.set()
                for record in records:
                    sent_us = struct.unpack(">q", (record.value or b"")[:8])[0]
                    if sent_us >= window.count_from_us:
                        histogram.record_value(max(1, received - sent_us))
    finally:
        await consumer.stop()


async def forward(bootstrap: str, source: str, destination: str) -> None:
    """The floor: read, send each partition's records as whole batches; no decision, no
    ledger, no commit. The clients are the proxy's (`streams.clients`)."""
    config = InterposerConfig(
        kafka=KafkaSettings(bootstrap), run_id="floor", group_id=f"floor-{destination}"
    )
    consumer, producer = group_consumer(config), route_producer(config)
    consumer.subscribe([source])
    await asyncio.gather(consumer.start(), producer.start())
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    try:
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=100, max_records=5_000)
            for tp, records in batches.items():
                await send_in_batches(
                    producer,
                    destination,
                    tp.partition,
                    records,
                    lambda r: (r.key, r.value, r.timestamp, list(r.headers)),
                    lambda *_: None,
                )
    finally:
        await asyncio.gather(consumer.stop(), producer.stop())


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU of a running process (Linux /proc), None where it cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load() -> str:
    return "load {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


async def main(bootstrap: str, rate: int, seconds: float, floor: bool) -> None:
    run = uuid.uuid4().hex[:8]
    source, destination = f"bench-lat-{run}.src", f"bench-lat-{run}.dst"
    floor_destination = f"bench-lat-{run}.floor"
    await create_topics(
        bootstrap, [source, destination, *([floor_destination] if floor else [])], PARTITIONS
    )
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = ["proxy", "--route", f"{source}:{destination}", "--bootstrap", bootstrap]
    command += ["--group", f"bench-lat-{run}", "--from", "earliest"]
    if floor:
        # The floor's consumer carries the interposer's client id, which preflight refuses.
        command.append("--share-route")
    processes = {
        "proxied": await asyncio.create_subprocess_exec(
            sys.executable, "-m", "chaosbus", *command, stderr=asyncio.subprocess.DEVNULL, env=env
        )
    }
    if floor:
        processes["floor"] = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--bootstrap", bootstrap, "--forward",
            f"{source}:{floor_destination}", env=env,
        )  # fmt: skip
    paths = {"direct": source, "proxied": destination}
    if floor:
        paths["floor"] = floor_destination
    histograms = {name: HdrHistogram(1, 60_000_000, 3) for name in paths}
    firsts = {name: asyncio.Event() for name in paths}
    window, stop, flowing = Window(), asyncio.Event(), asyncio.Event()
    load_before = load()
    readers = [
        asyncio.create_task(
            read_latencies(bootstrap, topic, histograms[name], firsts[name], window, stop)
        )
        for name, topic in paths.items()
    ]
    producing = asyncio.create_task(produce(bootstrap, source, rate, seconds, flowing, window))
    ready_started = time.monotonic()
    while not all(event.is_set() for event in firsts.values()):
        dead = [name for name, p in processes.items() if p.returncode is not None]
        if dead or time.monotonic() - ready_started > READY_TIMEOUT_S:
            for process in processes.values():
                if process.returncode is None:
                    process.terminate()
            producing.cancel()
            stop.set()
            await asyncio.gather(*readers, producing, return_exceptions=True)
            why = f"{', '.join(dead)} exited" if dead else f"nothing after {READY_TIMEOUT_S:.0f} s"
            sys.exit(f"latency: the paths never all flowed ({why})")
        await asyncio.sleep(0.1)
    ready_s = time.monotonic() - ready_started
    cpu_before = {name: cpu_seconds(p.pid) for name, p in processes.items()}
    flowing.set()
    sent = await producing
    await asyncio.sleep(2)
    cpu_after = {name: cpu_seconds(p.pid) for name, p in processes.items()}
    load_after = load()
    stop.set()
    await asyncio.gather(*readers)
    for process in processes.values():
        process.terminate()
    for process in processes.values():
        await process.wait()

    def ms(name: str, q: float) -> float:
        return float(histograms[name].get_value_at_percentile(q)) / 1000

    print(
        f"rate {rate} msg/s for {seconds:.0f} s: {sent} sent; every path flowing after "
        f"{ready_s:.1f} s; warm-up {WARMUP_S:.0f} s excluded; {load_before} before, "
        f"{load_after} after"
    )
    for name in paths:
        line = (
            f"{name:8} n={histograms[name].get_total_count():>7}  p50 {ms(name, 50):7.2f} ms  "
            f"p99 {ms(name, 99):7.2f} ms"
        )
        before, after = cpu_before.get(name), cpu_after.get(name)
        if before is not None and after is not None and sent:
            line += f"  CPU {(after - before) / sent * 1e6:5.0f} us/msg"
        print(line)
    for name in [n for n in paths if n != "direct"]:
        print(
            f"added by {'the proxy' if name == 'proxied' else 'the floor'}: "
            f"p50 {ms(name, 50) - ms('direct', 50):+.2f} ms, "
            f"p99 {ms(name, 99) - ms('direct', 99):+.2f} ms"
            + (" (target p99 <= +5 ms)" if name == "proxied" else "")
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=2_000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--floor", action="store_true", help="add the raw-forwarder path")
    parser.add_argument("--bootstrap")
    parser.add_argument("--forward", metavar="SRC:DST", help=argparse.SUPPRESS)
    args = parser.parse_args()
    bootstrap = args.bootstrap or LocalStack.default().status().bootstrap
    if args.forward:
        forward_source, forward_destination = args.forward.split(":")
        asyncio.run(forward(bootstrap, forward_source, forward_destination))
    else:
        asyncio.run(main(bootstrap, args.rate, args.seconds, args.floor))
