"""The audit log's hash chain (pure): each entry carries the hash of the one before it.

An entry's `seq` is its position in the stream's whole history (Redis counts every XADD in
`entries-added`, which XTRIM and XDEL do not lower), `prev` the hash of the entry before
it, `hash` the sha256 of its own fields with `seq` and `prev`. So an edited entry no longer
matches its hash, a deleted one leaves a gap in `seq` and breaks `prev`, a trimmed head
leaves the first entry held at a `seq` above 1, and a deleted tail leaves `entries-added`
above the last `seq`. Why a plain hash and not an HMAC: docs/decisions/0051.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

GENESIS = "0" * 64
CHAIN_FIELDS = ("seq", "prev", "hash")


def entry_hash(fields: Mapping[str, str]) -> str:
    """The sha256 of every field but `hash`, in a canonical form."""
    body = {k: v for k, v in fields.items() if k != "hash"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def chained(fields: Mapping[str, str], seq: int, prev: str) -> dict[str, str]:
    """`fields` with its place in the chain and its hash added."""
    out = {k: v for k, v in fields.items() if k not in CHAIN_FIELDS}
    out["seq"] = str(seq)
    out["prev"] = prev
    out["hash"] = entry_hash(out)
    return out


@dataclass(frozen=True, slots=True)
class Verification:
    held: int  # entries read
    added: int  # entries ever appended (XINFO entries-added)
    head: str  # hash of the last entry held: record it elsewhere to detect a rewrite
    problems: tuple[str, ...]

    @property
    def intact(self) -> bool:
        return not self.problems


def _span(first: int, last: int) -> str:
    return f"entry {first}" if first == last else f"entries {first}-{last}"


def verify(rows: Sequence[tuple[str, Mapping[str, str]]], added: int) -> Verification:
    """Walk the chain oldest first; name every edited, deleted or trimmed entry by position."""
    problems: list[str] = []
    expected, prev = 1, GENESIS
    for entry_id, fields in rows:
        try:
            seq = int(fields["seq"])
            stored_prev, stored_hash = fields["prev"], fields["hash"]
        except (KeyError, ValueError):
            problems.append(f"stream id {entry_id}: not chained (no seq/prev/hash)")
            continue
        if seq > expected:
            how = "trimmed" if expected == 1 else "deleted"
            problems.append(f"{_span(expected, seq - 1)} missing before entry {seq} ({how})")
        elif seq < expected:
            problems.append(f"entry {seq} (stream id {entry_id}): out of order or repeated")
        if entry_hash(fields) != stored_hash:
            problems.append(f"entry {seq} (stream id {entry_id}): edited, its hash does not match")
        elif seq == expected and stored_prev != prev:
            problems.append(f"entry {seq} (stream id {entry_id}): does not follow entry {seq - 1}")
        expected, prev = max(expected, seq + 1), stored_hash
    if added >= expected:
        problems.append(f"{_span(expected, added)} missing at the end (deleted or trimmed)")
    return Verification(len(rows), added, prev, tuple(problems))
