"""The recording file's encoding against gzip'd JSON lines, on one core, no broker.

    python3 bench/traffic_format.py [--records 100000]

Encodes and decodes the same records (512 B JSON values with an event-id header, a key,
timestamp, partition and offset) four ways and prints records/s and bytes per record:
JSON lines in gzip (levels 1 and 6; a value that is not UTF-8 would need base64 on top),
and chaosbus's framed blocks (`chaosbus.traffic.file_format`) with zlib level 1, the codec it
uses, and level 6. Decision 0260 quotes a run of it.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import random
import tempfile
import time
from pathlib import Path

from chaosbus.traffic import file_format
from chaosbus.traffic.file_format import RecordingReader, RecordingWriter
from chaosbus.traffic.records import TrafficRecord


def sample(count: int) -> list[TrafficRecord]:
    rng = random.Random(1)
    out = []
    for i in range(count):
        doc = {
            "event_id": f"{rng.getrandbits(64):016x}",
            "type": rng.choice(["created", "updated", "paid"]),
            "order_id": f"o-{i % 5000:05d}",
            "version": i % 7,
            "customer": f"c-{i % 97:02d}",
            "total": rng.randrange(100_000),
            "note": "".join(rng.choice("abcdefghij ") for _ in range(330)),
        }
        value = json.dumps(doc, separators=(",", ":")).encode()
        headers = (("event-id", doc["event_id"].encode()),)
        out.append(
            TrafficRecord(doc["order_id"].encode(), value, headers, 1_700_000_000_000 + i, i % 3, i)
        )
    return out


def json_lines(records: list[TrafficRecord], level: int) -> tuple[float, float, int]:
    buffer = io.BytesIO()
    started = time.perf_counter()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=level) as out:
        for r in records:
            line = {
                "key": (r.key or b"").decode(),
                "value": (r.value or b"").decode(),
                "headers": [[n, (v or b"").decode()] for n, v in r.headers],
                "timestamp": r.timestamp_ms,
                "partition": r.partition,
                "offset": r.offset,
            }
            out.write(json.dumps(line, separators=(",", ":")).encode() + b"\n")
    encode = time.perf_counter() - started
    started = time.perf_counter()
    with gzip.GzipFile(fileobj=io.BytesIO(buffer.getvalue())) as lines:
        for line in lines:
            doc = json.loads(line)
            doc["value"].encode()
    return encode, time.perf_counter() - started, len(buffer.getvalue())


def framed(records: list[TrafficRecord], level: int, folder: Path) -> tuple[float, float, int]:
    path = folder / f"bench-{level}.cbt"
    file_format.ZLIB_LEVEL = level  # the module's constant, for this comparison only
    started = time.perf_counter()
    with RecordingWriter(path, {}) as writer:
        for r in records:
            writer.write(r)
    encode = time.perf_counter() - started
    started = time.perf_counter()
    with RecordingReader(path) as reader:
        for _ in reader:
            pass
    return encode, time.perf_counter() - started, path.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    args = parser.parse_args()
    records = sample(args.records)
    n = len(records)
    print(f"{n} records, value {sum(len(r.value or b'') for r in records) / n:.0f} B on average")
    with tempfile.TemporaryDirectory() as folder:
        rows = [
            ("JSON lines + gzip 1", json_lines(records, 1)),
            ("JSON lines + gzip 6", json_lines(records, 6)),
            ("framed blocks + zlib 1", framed(records, 1, Path(folder))),
            ("framed blocks + zlib 6", framed(records, 6, Path(folder))),
        ]
    file_format.ZLIB_LEVEL = 1
    for name, (encode, decode, size) in rows:
        rates = f"write {n / encode:>9,.0f}/s  read {n / decode:>9,.0f}/s"
        print(f"{name:<24} {rates}  {size / n:>5.0f} B/record")


if __name__ == "__main__":
    main()
