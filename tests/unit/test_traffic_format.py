"""The recording file: round trips, and every way a file can be wrong named by its byte."""

from __future__ import annotations

import json
import random
import struct
import tracemalloc
import zlib
from pathlib import Path

import pytest

from chaosbus.traffic.errors import RecordingInvalid
from chaosbus.traffic.file_format import (
    MAGIC,
    RecordingReader,
    RecordingWriter,
    partial_path,
    read_meta,
)
from chaosbus.traffic.records import TrafficRecord

POISON = [
    TrafficRecord(b"k1", b'{"a": 1}', (("event-id", b"e1"),), 1_000, 0, 10),
    TrafficRecord(None, b"keyless", (), 1_001, 1, 11),
    TrafficRecord(b"k2", None, (("null", None), ("", b"")), 1_002, 2, 12),
    TrafficRecord(b"", b"", (), -5, -1, -1),
    TrafficRecord(b"\xff\x00", bytes(range(256)) * 10, (("h\u00e9", b"\xff"),), 2**40, 7, 2**40),
]


def write(path: Path, records: list[TrafficRecord], **meta: object) -> Path:
    with RecordingWriter(path, dict(meta), block_bytes=64) as writer:
        for record in records:
            writer.write(record)
    return path


def read(path: Path) -> list[TrafficRecord]:
    with RecordingReader(path) as reader:
        return list(reader)


class TestRoundTrip:
    def test_every_field_of_every_record_survives(self, tmp_path: Path) -> None:
        """Null keys, values and headers, empty ones, binary bytes, negative numbers."""
        path = write(tmp_path / "r.cbt", POISON * 3, source={"topic": "t"})
        assert read(path) == POISON * 3

    def test_the_metadata_and_the_end_frame_say_what_the_file_holds(self, tmp_path: Path) -> None:
        """Format, version, codec and the caller's keys in meta; counts per partition at the end."""
        path = write(tmp_path / "r.cbt", POISON, source={"topic": "t"})
        with RecordingReader(path) as reader:
            assert reader.meta["format"] == "chaosbus-traffic"
            assert (reader.meta["version"], reader.meta["codec"]) == (1, "zlib")
            assert reader.meta["source"] == {"topic": "t"}
            list(reader)
            assert reader.end is not None
            assert reader.end.records == 5
            assert reader.end.partitions == {"-1": 1, "0": 1, "1": 1, "2": 1, "7": 1}
            assert reader.end.bytes == sum(r.size for r in POISON)

    def test_an_empty_recording_is_a_valid_file(self, tmp_path: Path) -> None:
        """A window with no message gives a file with no record, not an error."""
        path = write(tmp_path / "empty.cbt", [])
        assert read(path) == []
        assert read_meta(path)["format"] == "chaosbus-traffic"

    def test_a_failed_recording_leaves_no_file(self, tmp_path: Path) -> None:
        """An exception inside the writer removes the partial file; no file looks complete."""
        path = tmp_path / "r.cbt"

        def interrupted() -> None:
            with RecordingWriter(path, {}) as writer:
                writer.write(POISON[0])
                raise RuntimeError("stopped")

        with pytest.raises(RuntimeError):
            interrupted()
        assert not path.exists()
        assert not partial_path(path).exists()

    def test_reading_holds_one_block_not_the_file(self, tmp_path: Path) -> None:
        """Reading a 24 MB recording allocates a few MB at most: memory follows the block."""
        rng = random.Random(1)  # random bytes: zlib cannot shrink the file
        path = tmp_path / "big.cbt"
        with RecordingWriter(path, {}) as writer:
            for i in range(24_000):
                writer.write(TrafficRecord(b"k%d" % i, rng.randbytes(1024), (), i, 0, i))
        assert path.stat().st_size > 24_000_000
        tracemalloc.start()
        try:
            with RecordingReader(path) as reader:
                count = sum(1 for _ in reader)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert count == 24_000
        assert peak < 8 * 1024 * 1024


class TestRefusals:
    @pytest.fixture
    def good(self, tmp_path: Path) -> bytes:
        return write(tmp_path / "good.cbt", POISON * 4).read_bytes()

    def refusal(self, tmp_path: Path, data: bytes) -> str:
        path = tmp_path / "bad.cbt"
        path.write_bytes(data)
        with pytest.raises(RecordingInvalid) as refused:
            read(path)
        return str(refused.value)

    def test_truncation_inside_a_block_names_the_byte(self, tmp_path: Path, good: bytes) -> None:
        """Cut in the middle of a frame: the byte where the file ends and the frame's start."""
        cut = len(good) - 40
        message = self.refusal(tmp_path, good[:cut])
        assert f"truncated at byte {cut}" in message
        assert "needs" in message

    def test_truncation_between_frames_is_a_missing_end(self, tmp_path: Path, good: bytes) -> None:
        """Cut right after a block: no end frame, the records read so far counted."""
        end_frame = good.rindex(b"E\x00")
        message = self.refusal(tmp_path, good[:end_frame])
        assert f"truncated at byte {end_frame}: no end frame after 20 records" in message

    def test_a_newer_version_is_named(self, tmp_path: Path, good: bytes) -> None:
        """Version 2 is refused with both versions in the line."""
        newer = MAGIC + struct.pack(">H", 2) + good[len(MAGIC) + 2 :]
        message = self.refusal(tmp_path, newer)
        assert "recording format version 2 is newer" in message
        assert "(version 1)" in message

    def test_another_file_is_not_a_recording(self, tmp_path: Path) -> None:
        """A JSON file is refused at byte 0, by its magic."""
        message = self.refusal(tmp_path, json.dumps({"a": 1}).encode())
        assert "not a chaosbus recording" in message

    def test_a_flipped_bit_fails_the_checksum(self, tmp_path: Path, good: bytes) -> None:
        """One changed byte inside a block: its frame's byte named, checksum mismatch."""
        damaged = bytearray(good)
        damaged[200] ^= 0x01
        message = self.refusal(tmp_path, bytes(damaged))
        assert "checksum does not match" in message
        assert "corrupt frame at byte" in message

    def test_a_huge_length_is_refused_before_allocating(self, tmp_path: Path, good: bytes) -> None:
        """A frame claiming 4 GB is corrupt, not a reason to read 4 GB."""
        meta_end = len(MAGIC) + 2
        meta_length = struct.unpack_from(">cII", good, meta_end)[1]
        block = meta_end + 9 + meta_length
        damaged = good[:block] + struct.pack(">cII", b"B", 0xFFFFFFF0, 0) + good[block + 9 :]
        message = self.refusal(tmp_path, damaged)
        assert f"corrupt frame at byte {block}" in message

    def test_a_block_whose_count_lies_is_refused(self, tmp_path: Path) -> None:
        """A block with a valid checksum but a wrong record count names its byte."""
        path = write(tmp_path / "one.cbt", POISON[:1])
        data = bytearray(path.read_bytes())
        meta_end = len(MAGIC) + 2
        block = meta_end + 9 + struct.unpack_from(">cII", data, meta_end)[1]
        payload_at = block + 9
        length = struct.unpack_from(">cII", data, block)[1]
        payload = bytearray(data[payload_at : payload_at + length])
        struct.pack_into(">I", payload, 4, 2)  # claims two records
        data[payload_at : payload_at + length] = payload
        struct.pack_into(">cII", data, block, b"B", length, zlib.crc32(bytes(payload)))
        message = self.refusal(tmp_path, bytes(data))
        assert f"corrupt block at byte {block}" in message

    def test_bytes_after_the_end_are_refused(self, tmp_path: Path, good: bytes) -> None:
        """Two recordings glued together are not one recording."""
        message = self.refusal(tmp_path, good + good)
        assert "trailing bytes after the end frame" in message

    def test_a_missing_file_is_one_line(self, tmp_path: Path) -> None:
        """A path that does not exist is named with the reason."""
        with pytest.raises(RecordingInvalid, match="cannot read it"):
            read_meta(tmp_path / "nowhere.cbt")
