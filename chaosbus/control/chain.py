"""The audit log's chain (pure): per-user lists, one global sequence, links by sha1.

The server (`chaosbus_v1.lua`) appends each entry as JSON to `<ns>:audit:by:<user>` — the
list of the credential that wrote it, which only that user may append to (RPUSH, never
remove) — with `seq` taken from `<ns>:audit:seq` (INCR only) and `prev` the sha1 of the
element before it in the same list. So the entry's author is the list it sits in, never a
field; an edited or removed entry (admins only) breaks the next one's `prev`; a removed
last entry or a sequence number taken without an entry leaves a gap in `seq`; an entry
written around the functions is named if it repeats a `seq`, goes beyond the counter, or
claims another actor. What a writer *can* still do is append well-formed lies under its
own name (docs/decisions/0300). sha1 because it is what a Redis function can compute;
collisions are not what this chain defends against (an admin can rewrite it all anyway,
0051): record `head` elsewhere to detect that.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

GENESIS = "0" * 40


def link(element: str) -> str:
    """What the next entry's `prev` holds: the sha1 of the stored element, exactly."""
    return hashlib.sha1(element.encode("utf-8")).hexdigest()  # a link, not a secret


@dataclass(frozen=True, slots=True)
class Verification:
    held: int  # entries read
    added: int  # entries ever appended (`<ns>:audit:seq`)
    head: str  # link of the newest entry held: record it elsewhere to detect a rewrite
    problems: tuple[str, ...]

    @property
    def intact(self) -> bool:
        return not self.problems


def _span(first: int, last: int) -> str:
    return f"entry {first}" if first == last else f"entries {first}-{last}"


def parsed(element: str) -> dict[str, str] | None:
    try:
        fields = json.loads(element)
    except ValueError:
        return None
    if not isinstance(fields, dict):
        return None
    return {str(k): str(v) for k, v in fields.items()}


def _walk(owner: str, elements: Sequence[str], problems: list[str]) -> dict[int, str]:
    """One user's list: each element links to the one before; returns seq -> element."""
    found: dict[int, str] = {}
    prev = GENESIS
    for index, element in enumerate(elements):
        fields = parsed(element)
        seq = fields.get("seq", "") if fields else ""
        if fields is None or not seq.isdigit():
            problems.append(f"{owner}'s entry #{index + 1}: not an entry (written around chaosbus)")
        else:
            if fields.get("prev") != prev:
                problems.append(
                    f"entry {seq} by {owner}: does not follow {owner}'s entry before it"
                )
            if fields.get("actor") != owner:
                problems.append(f"entry {seq} by {owner}: claims to be by {fields.get('actor')}")
            if int(seq) in found:
                problems.append(f"entry {seq} by {owner}: repeated")
            found[int(seq)] = element
        prev = link(element)
    return found


def verify(lists: Mapping[str, Sequence[str]], added: int) -> Verification:
    """Walk every user's list, then the sequence across them; name every break by position."""
    problems: list[str] = []
    owners: dict[int, list[str]] = {}
    elements: dict[int, str] = {}
    held = 0
    for owner in sorted(lists):
        held += len(lists[owner])
        for seq, element in _walk(owner, lists[owner], problems).items():
            owners.setdefault(seq, []).append(owner)
            elements[seq] = element
    for seq, by in sorted(owners.items()):
        if len(by) > 1:
            problems.append(f"entry {seq}: written more than once (by {', '.join(by)})")
        if seq > added or seq == 0:
            problems.append(
                f"entry {seq} by {by[0]}: outside the sequence (written around chaosbus)"
            )
    gap_start = None
    for seq in range(1, added + 2):
        if seq <= added and seq not in owners:
            gap_start = seq if gap_start is None else gap_start
        elif gap_start is not None:
            problems.append(f"{_span(gap_start, seq - 1)} missing (removed, or never written)")
            gap_start = None
    head = link(elements[max(elements)]) if elements else GENESIS
    return Verification(held, added, head, tuple(problems))
