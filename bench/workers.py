"""Throughput of `chaosbus proxy --workers N` for N = 1, 2, 4, in one run, on the local broker.

    python3 bench/workers.py [--messages 200000] [--partitions 4] [--workers 1,2,4]
        [--bootstrap HOST:PORT]

Fills one source topic, then for each N runs a real `chaosbus proxy --workers N` process
(N = 1: the plain proxy) in a fresh consumer group to a fresh destination, in passthrough
with the ledger, and times it from its first commit to every message committed (so process
start-up and the group join are left out). Prints msgs/s and the ratio against N = 1. On a
machine with fewer cores than workers plus the broker, the workers compete with the broker
and with each other for CPU: read the ratios with `nproc` and the load average beside them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import time
import uuid
from pathlib import Path

from chaosbus.local.stack import LocalStack
from chaosbus.testing import Message, committed_offsets, create_topics, produce


async def timed_workers(
    bootstrap: str, source: str, count: int, workers: int, partitions: int
) -> float:
    run = uuid.uuid4().hex[:8]
    group, destination = f"bench-w{workers}-{run}", f"{source}.w{workers}"
    await create_topics(bootstrap, [destination], partitions)
    command = [
        sys.executable, "-m", "chaosbus", "proxy", "--route", f"{source}:{destination}",
        "--bootstrap", bootstrap, "--group", group, "--status-every", "60",
    ]  # fmt: skip
    if workers > 1:
        command += ["--workers", str(workers)]
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    started: float | None = None
    first = 0
    try:
        while True:
            done = sum((await committed_offsets(bootstrap, group)).values())
            now = time.perf_counter()
            if done and started is None:
                started, first = now, done
            if done >= count:
                assert started is not None
                return (count - first) / max(now - started, 1e-9)
            await asyncio.sleep(0.05)
    finally:
        process.send_signal(signal.SIGTERM)
        await process.wait()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--bootstrap")
    args = parser.parse_args()
    bootstrap = args.bootstrap or (await asyncio.to_thread(LocalStack.default().up)).bootstrap
    source = f"bench-workers-{uuid.uuid4().hex[:8]}"
    await create_topics(bootstrap, [source], args.partitions)
    payload = os.urandom(512)
    await produce(
        bootstrap,
        source,
        [Message(key=f"k{i % 1000}".encode(), value=payload) for i in range(args.messages)],
    )
    print(
        f"{args.messages:,} messages of 512 B, {args.partitions} partitions, {os.cpu_count()} cores"
    )
    rates: dict[int, float] = {}
    for workers in (int(n) for n in args.workers.split(",")):
        rates[workers] = await timed_workers(
            bootstrap, source, args.messages, workers, args.partitions
        )
        load = Path("/proc/loadavg").read_text().split()[:3]  # noqa: ASYNC240  # procfs
        base = rates[min(rates)]
        print(
            f"  workers={workers}  {rates[workers]:9,.0f} msg/s   "
            f"{rates[workers] / base:4.2f}x one worker   load {' '.join(load)}"
        )


if __name__ == "__main__":
    asyncio.run(main())
