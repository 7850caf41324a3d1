"""The recording file: versioned, framed, streamed; docs/traffic.md is its specification.

    file   = MAGIC VERSION frame('M') frame('B')* frame('E')
    MAGIC  = 89 43 42 54 52 41 46 0A   ("\\x89CBTRAF\\n": a text-mode copy or a 7-bit channel
                                         mangles it, so the damage shows at byte 0)
    VERSION= u16
    frame  = kind (1 byte) length (u32) crc32 (u32, of the payload) payload (length bytes)
      'M'  metadata, a JSON object: format, version, codec, created_ms, source, window,
           privacy, generator (whichever apply)
      'B'  a block: raw_length (u32) record_count (u32) zlib(records), ≤ BLOCK_BYTES raw
      'E'  the end, a JSON object: records, bytes, first/last timestamp, per-partition
           counts, ended_by; without it the file is truncated
    record = flags (u8: 1 null key, 2 null value) timestamp_ms (i64) partition (i32)
             offset (i64) key_length (u32) value_length (u32) header_count (u16)
             key value header*
    header = name_length (u16) value_length (i32, -1 null) name (UTF-8) value

Every integer is big-endian. Memory is one block on either side: the writer compresses and
writes a block once its records reach `BLOCK_BYTES` (a larger record is a block of its own);
the reader holds one block at a time. A file is written under a hidden `.NAME.partial` name
and renamed only once its end frame is on disk, so a recorder that dies leaves no file that
looks complete. Every refusal names the byte where the file went wrong (decision 0260).
"""

from __future__ import annotations

import json
import os
import struct
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from chaosbus.traffic.errors import RecordingInvalid
from chaosbus.traffic.records import TrafficRecord

MAGIC = b"\x89CBTRAF\n"
VERSION = 1
FORMAT = "chaosbus-traffic"
CODEC = "zlib"
BLOCK_BYTES = 1024 * 1024
# A hostile or damaged length field must not make the reader allocate gigabytes.
MAX_FRAME_BYTES = 64 * 1024 * 1024
ZLIB_LEVEL = 1  # 3.6x the encode rate of gzip'd JSON lines at the same size (decision 0260)

_VERSION = struct.Struct(">H")
_FRAME = struct.Struct(">cII")
_BLOCK = struct.Struct(">II")
_RECORD = struct.Struct(">BqiqIIH")
_HEADER = struct.Struct(">Hi")
_NULL_KEY, _NULL_VALUE = 1, 2


@dataclass
class RecordingEnd:
    """What the end frame says: the counts a reader checks the file against."""

    records: int = 0
    bytes: int = 0
    first_timestamp_ms: int | None = None
    last_timestamp_ms: int | None = None
    partitions: dict[str, int] = field(default_factory=dict)
    ended_by: str = "end"  # end, count, bytes, time, signal: what stopped the recording
    # Records left out on purpose, by reason (a value the privacy policy could not reach).
    skipped: dict[str, int] = field(default_factory=dict)

    def add(self, record: TrafficRecord) -> None:
        self.records += 1
        self.bytes += record.size
        if self.first_timestamp_ms is None:
            self.first_timestamp_ms = record.timestamp_ms
        self.last_timestamp_ms = record.timestamp_ms


def encode_record(record: TrafficRecord) -> bytes:
    flags = (_NULL_KEY if record.key is None else 0) | (_NULL_VALUE if record.value is None else 0)
    key, value = record.key or b"", record.value or b""
    parts = [
        _RECORD.pack(
            flags,
            record.timestamp_ms,
            record.partition,
            record.offset,
            len(key),
            len(value),
            len(record.headers),
        ),
        key,
        value,
    ]
    for name, header in record.headers:
        encoded = name.encode("utf-8")
        parts.append(_HEADER.pack(len(encoded), -1 if header is None else len(header)))
        parts.append(encoded)
        parts.append(header or b"")
    return b"".join(parts)


def decode_block(body: bytes, count: int, where: int) -> list[TrafficRecord]:
    """The records of one decompressed block; `where` (its frame's byte) for refusals."""
    records: list[TrafficRecord] = []
    position, end = 0, len(body)
    unpack_record, unpack_header = _RECORD.unpack_from, _HEADER.unpack_from
    try:
        while position < end:
            flags, timestamp, partition, offset, key_length, value_length, header_count = (
                unpack_record(body, position)
            )
            position += _RECORD.size
            key = None if flags & _NULL_KEY else body[position : position + key_length]
            position += key_length
            value = None if flags & _NULL_VALUE else body[position : position + value_length]
            position += value_length
            headers = []
            for _ in range(header_count):
                name_length, header_length = unpack_header(body, position)
                position += _HEADER.size
                name = body[position : position + name_length].decode("utf-8")
                position += name_length
                header = None if header_length < 0 else body[position : position + header_length]
                position += max(header_length, 0)
                headers.append((name, header))
            if position > end:
                raise struct.error("runs past the block")
            records.append(TrafficRecord(key, value, tuple(headers), timestamp, partition, offset))
    except (struct.error, UnicodeDecodeError) as exc:
        raise RecordingInvalid(
            f"corrupt block at byte {where}: record {len(records) + 1} does not decode ({exc})"
        ) from exc
    if len(records) != count:
        raise RecordingInvalid(
            f"corrupt block at byte {where}: it holds {len(records)} records, "
            f"its header says {count}"
        )
    return records


def partial_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.partial")


class RecordingWriter:
    """Writes a recording; a context manager whose clean exit completes the file.

    An exception inside the block removes the partial file: nothing half-written remains.
    """

    def __init__(self, path: Path, meta: dict[str, Any], *, block_bytes: int = BLOCK_BYTES):
        self.path = path
        self.meta = {"format": FORMAT, "version": VERSION, "codec": CODEC, **meta}
        self.end = RecordingEnd()
        self._block_bytes = block_bytes
        self._parts: list[bytes] = []
        self._raw = 0
        self._count = 0
        self._partitions: Counter[int] = Counter()
        self._file: IO[bytes] | None = None

    def __enter__(self) -> RecordingWriter:
        self._file = open(partial_path(self.path), "wb")  # closed in __exit__
        self._file.write(MAGIC + _VERSION.pack(VERSION))
        self._frame(b"M", json.dumps(self.meta, sort_keys=True).encode("utf-8"))
        return self

    def write(self, record: TrafficRecord) -> None:
        encoded = encode_record(record)
        self._parts.append(encoded)
        self._raw += len(encoded)
        self._count += 1
        self._partitions[record.partition] += 1
        self.end.add(record)
        if self._raw >= self._block_bytes:
            self._flush_block()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        assert self._file is not None
        partial = partial_path(self.path)
        try:
            if kind is None:
                self._flush_block()
                self.end.partitions = {str(p): n for p, n in sorted(self._partitions.items())}
                self._frame(b"E", json.dumps(asdict(self.end), sort_keys=True).encode("utf-8"))
                self._file.flush()
                os.fsync(self._file.fileno())
        finally:
            self._file.close()
        if kind is None:
            os.replace(partial, self.path)
        else:
            partial.unlink(missing_ok=True)

    def _flush_block(self) -> None:
        if not self._count:
            return
        raw = b"".join(self._parts)
        self._frame(b"B", _BLOCK.pack(len(raw), self._count) + zlib.compress(raw, ZLIB_LEVEL))
        self._parts, self._raw, self._count = [], 0, 0

    def _frame(self, kind: bytes, payload: bytes) -> None:
        assert self._file is not None
        self._file.write(_FRAME.pack(kind, len(payload), zlib.crc32(payload)))
        self._file.write(payload)


class RecordingReader:
    """Reads a recording as it streams; `meta` at once, `end` once every record was read.

    Iterating checks everything the format promises and raises `RecordingInvalid`, naming the
    byte, for a truncated, corrupt or newer file. Iterate once per reader (open another to
    read again).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._file: IO[bytes] = open(path, "rb")  # noqa: SIM115 closed by close()
        except OSError as exc:
            raise RecordingInvalid(f"{path}: cannot read it ({exc.strerror or exc})") from exc
        self._position = 0
        self.end: RecordingEnd | None = None
        try:
            self.meta = self._header()
        except BaseException:
            self._file.close()
            raise

    def __enter__(self) -> RecordingReader:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._file.close()

    def __iter__(self) -> Iterator[TrafficRecord]:
        seen = 0
        while True:
            where = self._position
            kind, payload = self._next_frame(seen)
            if kind == b"B":
                if len(payload) < _BLOCK.size:
                    raise self._invalid(f"corrupt block at byte {where}: shorter than its header")
                raw_length, count = _BLOCK.unpack_from(payload)
                body = self._inflate(payload[_BLOCK.size :], raw_length, where)
                records = decode_block(body, count, where)
                seen += len(records)
                yield from records
            elif kind == b"E":
                self.end = self._end(payload, seen, where)
                if self._file.read(1):
                    raise self._invalid(
                        f"trailing bytes after the end frame, from byte {self._position}"
                    )
                return
            else:
                raise self._invalid(f"unknown frame kind {kind!r} at byte {where}")

    def _header(self) -> dict[str, Any]:
        head = self._read(len(MAGIC) + _VERSION.size)
        if head[: len(MAGIC)] != MAGIC[: len(head)] or not head:
            raise self._invalid("not a chaosbus recording (its first bytes are not the magic)")
        if len(head) < len(MAGIC) + _VERSION.size:
            raise self._truncated("inside the file header")
        (version,) = _VERSION.unpack_from(head, len(MAGIC))
        if version > VERSION:
            raise self._invalid(
                f"recording format version {version} is newer than this chaosbus reads "
                f"(version {VERSION}); upgrade chaosbus to read it"
            )
        if version < 1:
            raise self._invalid(f"recording format version {version} does not exist")
        where = self._position
        kind, payload = self._next_frame(0)
        if kind != b"M":
            raise self._invalid(f"the frame at byte {where} should be the metadata ('M')")
        try:
            meta = json.loads(payload)
        except ValueError as exc:
            raise self._invalid(f"corrupt metadata at byte {where}: {exc}") from exc
        if not isinstance(meta, dict):
            raise self._invalid(f"corrupt metadata at byte {where}: not a JSON object")
        if meta.get("codec", CODEC) != CODEC:
            raise self._invalid(f"unknown codec {meta.get('codec')!r} (this chaosbus reads zlib)")
        return meta

    def _next_frame(self, seen: int) -> tuple[bytes, bytes]:
        where = self._position
        head = self._read(_FRAME.size)
        if not head:
            raise self._truncated(f"no end frame after {seen} records: the recording was cut")
        if len(head) < _FRAME.size:
            raise self._truncated(f"inside the frame header at byte {where}")
        kind, length, crc = _FRAME.unpack(head)
        if length > MAX_FRAME_BYTES:
            raise self._invalid(
                f"corrupt frame at byte {where}: it claims {length} bytes "
                f"(at most {MAX_FRAME_BYTES})"
            )
        payload = self._read(length)
        if len(payload) < length:
            raise self._truncated(
                f"the frame at byte {where} needs {length} bytes, the file has {len(payload)}"
            )
        if zlib.crc32(payload) != crc:
            raise self._invalid(f"corrupt frame at byte {where}: its checksum does not match")
        return kind, payload

    def _inflate(self, compressed: bytes, raw_length: int, where: int) -> bytes:
        if raw_length > MAX_FRAME_BYTES:
            raise self._invalid(f"corrupt block at byte {where}: {raw_length} bytes raw")
        inflater = zlib.decompressobj()
        try:
            body = inflater.decompress(compressed, raw_length)
        except zlib.error as exc:
            raise self._invalid(f"corrupt block at byte {where}: {exc}") from exc
        if len(body) != raw_length or inflater.unconsumed_tail:
            raise self._invalid(
                f"corrupt block at byte {where}: it inflates to other than {raw_length} bytes"
            )
        return body

    def _end(self, payload: bytes, seen: int, where: int) -> RecordingEnd:
        try:
            doc = json.loads(payload)
            end = RecordingEnd(**doc)
        except (ValueError, TypeError) as exc:
            raise self._invalid(f"corrupt end frame at byte {where}: {exc}") from exc
        if end.records != seen:
            raise self._invalid(
                f"corrupt end frame at byte {where}: it counts {end.records} records, "
                f"the file holds {seen}"
            )
        return end

    def _read(self, size: int) -> bytes:
        data = self._file.read(size)
        self._position += len(data)
        return data

    def _truncated(self, detail: str) -> RecordingInvalid:
        return self._invalid(f"truncated at byte {self._position}: {detail}")

    def _invalid(self, detail: str) -> RecordingInvalid:
        return RecordingInvalid(f"{self.path}: {detail}")


def read_meta(path: Path) -> dict[str, Any]:
    """The metadata of a recording, checking only its header."""
    with RecordingReader(path) as reader:
        return reader.meta
