"""Record and replay throughput against raw aiokafka loops measured in the same run.

    python3 bench/traffic.py [--messages 200000] [--size 512] [--bootstrap HOST:PORT]

Fills a 3-partition topic with N messages of SIZE bytes (JSON objects, a thousand keys),
then measures, one after the other:

- raw consume: a group-less consumer reading the topic to its end, discarding (the floor
  `record` cannot beat: it reads the same way, then merges, encodes and writes)
- record: `chaosbus.traffic.recorder.record_topic` into a file
- raw produce: an idempotent producer sending the same records from memory, one `send` each
- replay --speed max: `chaosbus.traffic.replayer.replay` of the file into a fresh topic

and prints msgs/s, the ratio against the raw loop of the same direction, the file's size and
the process's peak RSS after each phase; nothing holds all N messages, so the peak stays
flat as N grows (compare two N). The
issue's target is 20,000 msgs/s of 512 B for both. The machine is shared: compare ratios from
one run, never absolute numbers across runs. Without --bootstrap the local stack is used (and
started if it is down).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

from aiokafka import AIOKafkaProducer, TopicPartition

from chaosbus.clients.connection import KafkaSettings
from chaosbus.clients.consumers import standalone_consumer
from chaosbus.local.stack import LocalStack
from chaosbus.testing import create_topics
from chaosbus.traffic.file_format import RecordingReader
from chaosbus.traffic.pacing import AS_FAST_AS_POSSIBLE, Pace
from chaosbus.traffic.recorder import RecordOptions, record_topic
from chaosbus.traffic.records import TrafficRecord
from chaosbus.traffic.replayer import ReplayOptions, file_records, replay

PARTITIONS = 3
KEYS = 1_000


def values(count: int, size: int) -> Iterator[TrafficRecord]:
    """Records whose values are JSON objects padded to `size` bytes with seeded text."""
    rng = random.Random(1)
    words = ["order", "paid", "created", "customer", "total", "status", "line", "sku"]
    for i in range(count):
        doc = {"event_id": f"{rng.getrandbits(64):016x}", "order_id": f"o-{i % KEYS:05d}"}
        text = json.dumps(doc)
        pad = " ".join(rng.choice(words) for _ in range(size // 5))
        doc["note"] = pad[: max(0, size - len(text) - 12)]
        yield TrafficRecord(doc["order_id"].encode(), json.dumps(doc).encode(), (), 0)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def produce_all(kafka: KafkaSettings, topic: str, items: Iterable[TrafficRecord]) -> float:
    """The raw loop: one `send` per record, as fast as the producer takes them."""
    producer = AIOKafkaProducer(
        **kafka.client_options(), enable_idempotence=True, linger_ms=0, max_batch_size=256 * 1024
    )
    await producer.start()
    started = time.perf_counter()
    sent = 0
    try:
        pending = []
        for item in items:
            sent += 1
            pending.append(
                await producer.send(
                    topic, value=item.value, key=item.key, headers=list(item.headers)
                )
            )
            if len(pending) >= 10_000:
                await asyncio.gather(*pending)
                pending = []
        await producer.flush()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return sent / (time.perf_counter() - started)


async def consume_all(kafka: KafkaSettings, topic: str, count: int) -> float:
    """The raw loop: a group-less consumer reading to the end, discarding."""
    async with standalone_consumer(kafka) as consumer:
        tps = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        seen = 0
        started = time.perf_counter()
        while seen < count:
            batches = await consumer.getmany(timeout_ms=200, max_records=5_000)
            seen += sum(len(records) for records in batches.values())
        return count / (time.perf_counter() - started)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--bootstrap")
    args = parser.parse_args()
    bootstrap = args.bootstrap or (await asyncio.to_thread(LocalStack.default().up)).bootstrap
    kafka = KafkaSettings(bootstrap)
    run = uuid.uuid4().hex[:6]
    source, raw_out, replay_out = (f"bench-{run}.{n}" for n in ("src", "raw", "replay"))
    await create_topics(kafka, [source, raw_out, replay_out], PARTITIONS)
    n = args.messages
    size = len(next(values(1, args.size)).value or b"")
    print(f"{n} messages of {size} B, {PARTITIONS} partitions")
    await produce_all(kafka, source, values(n, args.size))  # the topic to record
    print(f"peak RSS after filling the topic: {peak_rss_mb():.0f} MB")

    rows: list[tuple[str, float, str]] = []
    consume = await consume_all(kafka, source, n)
    rows.append(("raw consume (group-less)", consume, ""))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.cbt"
        started = time.perf_counter()
        result = await record_topic(kafka, RecordOptions(source, path))
        record_rate = result.end.records / (time.perf_counter() - started)
        size_mb = path.stat().st_size / 1e6
        note = f"{record_rate / consume:.2f}x raw, file {size_mb:.1f} MB, peak RSS "
        rows.append(("record", record_rate, note + f"{peak_rss_mb():.0f} MB"))
        with RecordingReader(path) as reader:
            produce = await produce_all(kafka, raw_out, reader)
        rows.append(("raw produce (send each)", produce, "the file read as it goes"))
        started = time.perf_counter()
        done = await replay(
            kafka,
            file_records(path),
            ReplayOptions(replay_out, Pace(speed=AS_FAST_AS_POSSIBLE)),
            source_partitions=PARTITIONS,
        )
        replay_rate = done.sent / (time.perf_counter() - started)
        note = f"{replay_rate / produce:.2f}x raw, peak RSS {peak_rss_mb():.0f} MB"
        rows.append(("replay --speed max", replay_rate, note))
    for name, rate, note in rows:
        print(f"{name:<26} {rate:>10,.0f} msgs/s  {note}")


if __name__ == "__main__":
    asyncio.run(main())
