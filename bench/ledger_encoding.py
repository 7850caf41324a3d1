"""What the ledger costs per passed message: bytes written and CPU time, without a broker.

    python3 bench/ledger_encoding.py [--messages 50000] [--run 500] [--salt]

Runs of `--run` passes of one partition go through the ledger book as the interposer drives
it (open, one acknowledged copy each, take the completed records once per run) and, apart,
through the encoders alone: one `encode_record` per message against one `encode_pass_run`
per run. Bytes are payload plus Kafka key (the record's framing, about 40 B, comes on top).
Times are shaped like a real passthrough run's ledger (`bench/passthrough.py` traffic): about
11 source messages share a producer timestamp and about 145 share an acknowledgement time.
The book part also runs against an older tree (whose book returned one record per message),
for a before/after on the same machine: PYTHONPATH=OLD_TREE python3 bench/ledger_encoding.py.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from chaosbus.contracts import ledger_record
from chaosbus.injectors.envelope import SourceCoordinates
from chaosbus.streams.ledger import LedgerBook

TOPIC, PARTITION = "orders", 1
BASE_MS = 1_764_590_000_000
# As measured on a passthrough run's ledger: 1,743 passes, 158 source timestamps, 12 ack times.
SHARE_TIMESTAMP, SHARE_ACK = 11, 145


def stamped(offset: int) -> int:
    return BASE_MS - 1_000 + offset // SHARE_TIMESTAMP


def acked(offset: int) -> int:
    return BASE_MS + 4 + offset // SHARE_ACK


def book_path(messages: int, run: int, salt: bytes | None) -> tuple[float, float, int]:
    """Seconds and ledger bytes per message through the book, and the records written."""
    book = LedgerBook(run_id="bench-run", route=f"{TOPIC}->orders.out", salt=salt)
    sources = [SourceCoordinates(TOPIC, PARTITION, offset) for offset in range(messages)]
    written = 0
    records = 0
    started = time.perf_counter()
    for first in range(0, messages, run):
        chunk = sources[first : first + run]
        for source in chunk:
            book.open(
                source,
                key=b"k%d" % (source.offset % 1000),
                event_id=f"{TOPIC}:{PARTITION}:{source.offset}",
                fault="pass",
                reason=None,
                expected=1,
                now_ms=BASE_MS,
                source_timestamp_ms=stamped(source.offset),
            )
        done: list[Any] = []
        sent: Any = book.sent
        for source in chunk:
            # The older book returned each completed record here; this one returns None.
            record = sent(
                source,
                copy_number=0,
                planned_delay_ms=0,
                partition=PARTITION,
                offset=10_000 + source.offset,
                now_ms=acked(source.offset),
            )
            if record is not None:
                done.append(record)
        take = getattr(book, "take_completed", None)
        if take is not None:
            done.extend(take())
        for record in done:
            written += len(record.payload) + len(record.key or b"")
        records += len(done)
    elapsed = time.perf_counter() - started
    return elapsed / messages, written / messages, records


def encoders(messages: int, run: int) -> tuple[float, float, float, float, float, float]:
    """Seconds and bytes per message: encode_record each, then encode_pass_run per run;
    then seconds per message to decode each (`decode_ledger`, as every reader does)."""
    keys = [b"k%d" % (offset % 1000) for offset in range(messages)]
    ids = [f"{TOPIC}:{PARTITION}:{offset}" for offset in range(messages)]
    started = time.perf_counter()
    singles = []
    for offset in range(messages):
        singles.append(
            ledger_record.encode_record(
                run_id="bench-run",
                route=f"{TOPIC}->orders.out",
                topic=TOPIC,
                partition=PARTITION,
                offset=offset,
                event_id=ids[offset],
                key=keys[offset],
                fault="pass",
                reason=None,
                emissions=[(0, 0, PARTITION, 10_000 + offset, acked(offset), None)],
                decided_at_ms=BASE_MS,
                completed_at_ms=acked(offset),
                source_timestamp_ms=stamped(offset),
            )
        )
    single = time.perf_counter() - started
    started = time.perf_counter()
    runs = []
    for first in range(0, messages, run):
        n = min(run, messages - first)
        runs.append(
            ledger_record.encode_pass_run(
                run_id="bench-run",
                route=f"{TOPIC}->orders.out",
                topic=TOPIC,
                partition=PARTITION,
                offset=first,
                out_partition=PARTITION,
                out_offset=10_000 + first,
                event_ids=ids[first : first + n],
                keys=keys[first : first + n],
                reasons=[None] * n,
                fault_names=[None] * n,
                planned_delays_ms=[0] * n,
                variants=[None] * n,
                decided_at_ms=[BASE_MS] * n,
                sent_at_ms=[acked(o) for o in range(first, first + n)],
                completed_at_ms=[acked(o) for o in range(first, first + n)],
                source_timestamps_ms=[stamped(o) for o in range(first, first + n)],
                trace_ids=[None] * n,
            )
        )
    compact = time.perf_counter() - started
    started = time.perf_counter()
    for payload in singles:
        ledger_record.decode_ledger(payload)
    read_single = time.perf_counter() - started
    started = time.perf_counter()
    for payload in runs:
        ledger_record.decode_ledger(payload)
    read_compact = time.perf_counter() - started
    single_bytes = sum(map(len, singles))
    run_bytes = sum(map(len, runs))
    return (
        single / messages,
        single_bytes / messages,
        compact / messages,
        run_bytes / messages,
        read_single / messages,
        read_compact / messages,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--run", type=int, default=500)
    parser.add_argument("--salt", action="store_true", help="pseudonymise keys and event ids")
    args = parser.parse_args()
    salt = b"bench-salt" if args.salt else None
    seconds, size, records = min(
        (book_path(args.messages, args.run, salt) for _ in range(3)), key=lambda r: r[0]
    )
    print(f"messages: {args.messages} passes in runs of {args.run}, salt: {salt is not None}")
    print(
        f"book (open, sent, take):  {seconds * 1e6:6.2f} us/msg  {size:7.1f} B/msg  "
        f"{records} ledger records"
    )
    if not hasattr(ledger_record, "encode_pass_run"):
        return  # an older tree: the book figures are the "before"
    single_s, single_b, run_s, run_b, read_single, read_run = min(
        (encoders(args.messages, args.run) for _ in range(3)), key=lambda r: r[0] + r[2]
    )
    print(f"encode_record each:       {single_s * 1e6:6.2f} us/msg  {single_b:7.1f} B/msg")
    print(f"encode_pass_run per run:  {run_s * 1e6:6.2f} us/msg  {run_b:7.1f} B/msg")
    print(f"compact / single: time {run_s / single_s:.3f}x, bytes {run_b / single_b:.3f}x")
    print(
        f"decode_ledger: singles {read_single * 1e6:.2f} us/msg, runs {read_run * 1e6:.2f} us/msg"
    )


if __name__ == "__main__":
    main()
