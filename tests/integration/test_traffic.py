"""Recording and replaying on the real broker: read-only, bounded, order-keeping, faithful.

Short on purpose (CI time is budgeted): a few hundred messages, schedules of seconds.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from typer.testing import CliRunner

from chaosbus.cli import app
from chaosbus.clients.connection import KafkaSettings
from chaosbus.testing import Message, create_topics, produce, read_all, unique_topic
from chaosbus.traffic.fidelity import compare, traffic_stats
from chaosbus.traffic.file_format import RecordingReader, RecordingWriter
from chaosbus.traffic.generator import generate
from chaosbus.traffic.generator_spec import parse_traffic_spec
from chaosbus.traffic.pacing import IdShifter, Pace
from chaosbus.traffic.recorder import RecordOptions, record_topic
from chaosbus.traffic.records import TrafficRecord
from chaosbus.traffic.replayer import ReplayOptions, file_records, replay
from chaosbus.traffic.selectors import parse_selectors

pytestmark = pytest.mark.integration

RAMP = {
    "name": "ramp",
    "seed": 11,
    "duration_s": 4,
    "ramp": {"from": 20, "to": 200, "over_s": 3},
    "entities": {"key": {"sequence": "o-{n:04d}"}, "key_field": "order_id", "open": 15},
    "events": {"headers": {"event-id": "event_id"}},
    "lifecycle": {
        "start": "created",
        "states": {
            "created": {"next": {"updated": 0.8, "cancelled": 0.1}},
            "updated": {"next": {"updated": 0.6, "paid": 0.3}},
            "paid": {"fields": {"amount": {"int": [100, 9000]}}},
            "cancelled": {},
        },
    },
}


def records_of(path: Path) -> list[TrafficRecord]:
    with RecordingReader(path) as reader:
        return list(reader)


def write_generated(path: Path) -> Path:
    with RecordingWriter(path, {"generator": {"name": "ramp"}}) as writer:
        for record in generate(parse_traffic_spec(RAMP, "ramp")):
            writer.write(record)
    return path


async def groups_reading(bootstrap: str, topic: str) -> set[str]:
    """The consumer groups with an offset committed on `topic`."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        listed = {entry[0] for entry in await admin.list_consumer_groups()}
        found = set()
        for group in sorted(listed):
            offsets = await admin.list_consumer_group_offsets(group)
            if any(tp.topic == topic for tp in offsets):
                found.add(group)
        return found
    finally:
        await admin.close()


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


class TestGeneratedRampReplayedAtX1:
    async def test_the_replay_keeps_per_key_order_and_the_inter_arrival(
        self, bootstrap: str, tmp_path: Path
    ) -> None:
        """Generated ramp → replay x1 → record back: the fidelity report is within every
        tolerance: per-key order exact, inter-arrival p50 within ±3 ms or ±10 %, p99 within
        ±30 ms or ±25 % (decision 0263)."""
        kafka = KafkaSettings(bootstrap)
        generated = write_generated(tmp_path / "ramp.cbt")
        topic = unique_topic("ramp")
        started = time.monotonic()
        result = await replay(
            kafka,
            file_records(generated),
            ReplayOptions(topic, Pace(speed=1), create_topic=True),
            source_partitions=None,
            create_partitions=3,
        )
        elapsed = time.monotonic() - started
        sent = len(records_of(generated))
        assert (result.sent, result.partitions) == (sent, 3)
        assert elapsed >= 3.9  # the generated timestamps span about 4 s; x1 takes that long
        back = tmp_path / "back.cbt"
        recorded = await record_topic(kafka, RecordOptions(topic, back))
        assert recorded.end.records == sent
        with RecordingReader(generated) as a, RecordingReader(back) as b:
            comparison = compare(traffic_stats(a), traffic_stats(b))
        assert comparison.within, "\n".join(comparison.lines())
        order = next(r for r in comparison.rows if r.metric == "per-key order")
        assert order.candidate == order.reference.replace("keys", "kept")


class TestReadOnlyAndBounded:
    async def test_recording_joins_no_group_and_commits_nothing(
        self, bootstrap: str, tmp_path: Path
    ) -> None:
        """After a recording, no consumer group has an offset on the recorded topic."""
        kafka = KafkaSettings(bootstrap)
        topic = unique_topic("ro")
        await create_topics(kafka, [topic], 2)
        await produce(kafka, topic, [Message(b"k%d" % i, b"v") for i in range(50)])
        result = await record_topic(kafka, RecordOptions(topic, tmp_path / "r.cbt"))
        assert result.end.records == 50
        assert await groups_reading(bootstrap, topic) == set()

    async def test_count_and_window_bound_what_is_read(
        self, bootstrap: str, tmp_path: Path
    ) -> None:
        """--count 7 stops at 7; a 10-minute window leaves out what was stamped 2 h ago."""
        kafka = KafkaSettings(bootstrap)
        topic = unique_topic("window")
        await create_topics(kafka, [topic], 1)
        now = int(time.time() * 1000)
        old = [Message(b"old", b"%d" % i, timestamp_ms=now - 7_200_000 + i) for i in range(5)]
        new = [Message(b"new", b"%d" % i, timestamp_ms=now - 1_000 + i) for i in range(12)]
        await produce(kafka, topic, old + new)
        counted = await record_topic(kafka, RecordOptions(topic, tmp_path / "c.cbt", max_count=7))
        assert (counted.end.records, counted.end.ended_by) == (7, "count")
        windowed = await record_topic(kafka, RecordOptions(topic, tmp_path / "w.cbt", window_s=600))
        assert windowed.end.records == 12
        assert {r.key for r in records_of(tmp_path / "w.cbt")} == {b"new"}

    def test_an_empty_window_and_a_missing_topic(self, bootstrap: str, tmp_path: Path) -> None:
        """Nothing in the window: exit 0, said, an empty file. No such topic: exit 2, one line."""
        topic = unique_topic("empty")
        asyncio.run(create_topics(KafkaSettings(bootstrap), [topic], 1))
        out = tmp_path / "e.cbt"
        code, output = cli("record", "--from", topic, "--out", str(out), "--bootstrap", bootstrap)
        assert (code, output.strip()) == (
            0,
            f"the window of {topic!r} holds no message: wrote an empty {out}",
        )
        assert records_of(out) == []
        code, output = cli(
            "record", "--from", "no-such-topic-x", "--out", str(tmp_path / "m.cbt"),
            "--bootstrap", bootstrap,
        )  # fmt: skip
        assert code == 2
        assert output.count("\n") == 1
        assert "topic 'no-such-topic-x' does not exist" in output


class TestReplayPlacementAndIds:
    async def test_per_key_order_survives_another_partition_count(
        self, bootstrap: str, tmp_path: Path
    ) -> None:
        """Recorded from 3 partitions, replayed as fast as possible into 2: each key's values
        arrive in the recorded order, each key on one partition."""
        kafka = KafkaSettings(bootstrap)
        source, destination = unique_topic("src"), unique_topic("dst")
        await create_topics(kafka, [source], 3)
        await create_topics(kafka, [destination], 2)
        messages = [Message(b"k%d" % (i % 9), b"%04d" % i, partition=i % 3) for i in range(300)]
        await produce(kafka, source, messages)
        recording = tmp_path / "r.cbt"
        await record_topic(kafka, RecordOptions(source, recording))
        await replay(
            kafka,
            file_records(recording),
            ReplayOptions(destination, Pace(speed=float("inf"))),
            source_partitions=3,
        )
        recorded: dict[bytes | None, list[bytes | None]] = {}
        for r in records_of(recording):
            recorded.setdefault(r.key, []).append(r.value)
        got: dict[bytes | None, list[bytes | None]] = {}
        partitions: dict[bytes | None, set[int]] = {}
        for r in sorted(await read_all(kafka, destination), key=lambda r: (r.partition, r.offset)):
            got.setdefault(r.key, []).append(r.value)
            partitions.setdefault(r.key, set()).add(r.partition)
        assert got == recorded
        assert all(len(p) == 1 for p in partitions.values())

    async def test_two_replays_with_shifted_ids_share_no_id(
        self, bootstrap: str, tmp_path: Path
    ) -> None:
        """--shift-ids twice: twice 40 messages, no key or event id in common, the entities'
        sizes (events per key) the same as recorded."""
        kafka = KafkaSettings(bootstrap)
        recording = tmp_path / "r.cbt"
        with RecordingWriter(recording, {}) as writer:
            for i in range(40):
                doc = {"event_id": f"e-{i}", "order_id": f"o-{i % 8}"}
                key = f"o-{i % 8}".encode()
                writer.write(TrafficRecord(key, json.dumps(doc).encode(), (), 1_000 + i, 0, i))
        topic = unique_topic("shift")
        await create_topics(kafka, [topic], 1)
        fields = parse_selectors(["key,$.order_id,$.event_id"])
        for _ in range(2):
            await replay(
                kafka,
                file_records(recording),
                ReplayOptions(topic, Pace(speed=float("inf")), shift=IdShifter(fields)),
                source_partitions=1,
            )
        received = await read_all(kafka, topic)
        first, second = received[:40], received[40:]
        assert len(received) == 80
        assert not {r.key for r in first} & {r.key for r in second}
        ids = [{json.loads(r.value or b"")["event_id"] for r in half} for half in (first, second)]
        assert not ids[0] & ids[1]
        for half in (first, second):
            sizes = sorted(sum(1 for r in half if r.key == k) for k in {r.key for r in half})
            assert sizes == [5] * 8
            assert all(json.loads(r.value or b"")["order_id"].encode() == r.key for r in half)
