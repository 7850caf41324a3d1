"""What a recording suggests: the monitor's extractors and a traffic spec to edit (pure).

From the first `SAMPLE` records whose value is a JSON object, each top-level field is
looked at across records and across each key's events:

| looks like     | when                                                                    |
| -------------- | ----------------------------------------------------------------------- |
| event id       | a string in ≥ 95 % of records, every value distinct (a name with "id"   |
|                | first); else a header with that property                                |
| key field      | equal to the record key in ≥ 95 % of records                            |
| version        | an integer that rises between consecutive events of a key in ≥ 95 %     |
| state          | a string with 2 to 20 values (type, status, state, event, kind first)   |
| delete         | tombstones, else a state named like delete/cancel/remove/void            |
| entity field   | one value per key in ≥ 95 % of keys with several events                 |

The lifecycle is the state field's transitions between consecutive events of a key; a last
event counts as falling silent. A state the window never saw reached is left out, and said
so in the notes. Every proposal is a starting point for the user to edit.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import islice, pairwise
from typing import Any

from chaosbus.traffic.records import TrafficRecord

SAMPLE = 10_000
SHARE = 0.95
MAX_STATES = 20
MAX_CHOICES = 20
_STATE_NAMES = ("type", "status", "state", "event", "kind", "action")
_DELETE = re.compile(r"delet|cancel|remov|void|tombstone", re.IGNORECASE)
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_NUMBERED = re.compile(r"^(\D*?)(\d+)$")
_HEX = re.compile(r"^([a-z]+-)([0-9a-f]{8,})$")


@dataclass
class _Field:
    present: int = 0
    values: Counter[Any] = field(default_factory=Counter)
    equals_key: int = 0
    rises: int = 0
    pairs: int = 0
    per_key: dict[bytes, set[Any]] = field(default_factory=lambda: defaultdict(set))


@dataclass
class Proposal:
    extract: dict[str, Any]
    spec: dict[str, Any]
    notes: list[str]


def propose(records: Iterable[TrafficRecord]) -> Proposal:
    fields: dict[str, _Field] = defaultdict(_Field)
    headers: dict[str, Counter[bytes]] = defaultdict(Counter)
    sequences: dict[bytes, list[dict[str, Any]]] = defaultdict(list)
    spans: dict[bytes, list[int]] = {}
    keyed = tombstones = objects = 0
    first_ms = last_ms = None
    for record in islice(records, SAMPLE):
        first_ms = record.timestamp_ms if first_ms is None else first_ms
        last_ms = record.timestamp_ms
        keyed += record.key is not None
        spans.setdefault(record.key or b"", [record.timestamp_ms, 0])[1] = record.timestamp_ms
        if record.value is None:
            tombstones += 1
            continue
        doc = _object(record.value)
        if doc is None:
            continue
        objects += 1
        key = record.key or b""
        _observe(fields, doc, key, sequences[key])
        for name, value in record.headers:
            headers[name][value or b""] += 1
        sequences[key].append(doc)
    duration_s = ((last_ms or 0) - (first_ms or 0)) / 1000
    in_flight_s = sum(last - first for first, last in spans.values()) / 1000
    proposer = _Proposer(fields, headers, sequences, objects, keyed, tombstones)
    return proposer.build(duration_s, in_flight_s)


def _object(value: bytes) -> dict[str, Any] | None:
    try:
        doc = json.loads(value)
    except (ValueError, UnicodeDecodeError):
        return None
    return doc if isinstance(doc, dict) else None


def _observe(
    fields: dict[str, _Field], doc: dict[str, Any], key: bytes, before: list[dict[str, Any]]
) -> None:
    for name, value in doc.items():
        if isinstance(value, dict | list):
            continue
        f = fields[name]
        f.present += 1
        if len(f.values) <= SAMPLE:
            f.values[value] += 1
        f.equals_key += isinstance(value, str) and value.encode() == key
        f.per_key[key].add(value)
        previous = before[-1].get(name) if before else None
        if _integer(value) and _integer(previous):
            f.pairs += 1
            f.rises += value > previous


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class _Proposer:
    def __init__(
        self,
        fields: dict[str, _Field],
        headers: dict[str, Counter[bytes]],
        sequences: dict[bytes, list[dict[str, Any]]],
        objects: int,
        keyed: int,
        tombstones: int,
    ) -> None:
        self.fields, self.headers, self.sequences = fields, headers, sequences
        self.objects, self.keyed, self.tombstones = objects, keyed, tombstones
        self.notes: list[str] = []

    def build(self, duration_s: float, in_flight_s: float) -> Proposal:
        n = max(self.objects, 1)
        common = {k: f for k, f in self.fields.items() if f.present >= SHARE * n}
        event_id = self._event_id(common)
        key_field = next((k for k, f in common.items() if f.equals_key >= SHARE * n), None)
        version = self._version(common)
        state = self._state(common, {event_id, key_field, version})
        extract: dict[str, Any] = {}
        if event_id is not None:
            extract["event_id"] = {"json": f"$.{event_id}"}
        elif (header := self._unique_header()) is not None:
            extract["event_id"] = {"header": header}
        extract["entity"] = "record_key"
        if version is not None:
            extract["version"] = {"json": f"$.{version}"}
        delete = self._delete(state)
        if delete is not None:
            extract["delete"] = delete
        taken = {event_id, key_field, version, state}
        spec = self._spec(duration_s, event_id, key_field, version, state, taken)
        # Mean entities in flight: each key counts from its first event to its last.
        spec["entities"]["open"] = max(1, round(in_flight_s / max(duration_s, 1e-3)))
        return Proposal(extract, spec, self.notes)

    def _event_id(self, common: dict[str, _Field]) -> str | None:
        unique = [
            k
            for k, f in common.items()
            if all(isinstance(v, str) for v in f.values) and all(c == 1 for c in f.values.values())
        ]
        unique.sort(key=lambda k: ("id" not in k.lower(), k))
        if unique:
            self.notes.append(f"event id: $.{unique[0]} (a distinct string in every record)")
        return unique[0] if unique else None

    def _unique_header(self) -> str | None:
        for name, values in sorted(self.headers.items()):
            unique = all(c == 1 for c in values.values())
            if unique and sum(values.values()) >= SHARE * self.objects:
                self.notes.append(f"event id: header {name} (distinct in every record)")
                return name
        return None

    def _version(self, common: dict[str, _Field]) -> str | None:
        rising = [k for k, f in common.items() if f.pairs and f.rises >= SHARE * f.pairs]
        rising.sort(key=lambda k: ("version" not in k.lower(), k))
        if rising:
            self.notes.append(f"version: $.{rising[0]} (rises between a key's events)")
        return rising[0] if rising else None

    def _state(self, common: dict[str, _Field], taken: set[str | None]) -> str | None:
        candidates = [
            k
            for k, f in common.items()
            if k not in taken
            and all(isinstance(v, str) for v in f.values)
            and 2 <= len(f.values) <= MAX_STATES
        ]
        rank = {name: i for i, name in enumerate(_STATE_NAMES)}
        candidates.sort(key=lambda k: (rank.get(k.lower(), len(rank)), len(common[k].values), k))
        if candidates:
            self.notes.append(f"lifecycle state: $.{candidates[0]}")
        return candidates[0] if candidates else None

    def _delete(self, state: str | None) -> Any:
        if self.tombstones:
            self.notes.append(f"deletes: tombstones ({self.tombstones} in the sample)")
            return "tombstone"
        if state is None:
            return None
        named = sorted(v for v in self.fields[state].values if _DELETE.search(str(v)))
        if named:
            self.notes.append(f"deletes: $.{state} equals {named[0]!r}")
            return {"path": f"$.{state}", "equals": named[0]}
        return None

    def _spec(
        self,
        duration_s: float,
        event_id: str | None,
        key_field: str | None,
        version: str | None,
        state: str | None,
        taken: set[str | None],
    ) -> dict[str, Any]:
        keys = list(self.sequences)
        records = sum(len(s) for s in self.sequences.values())
        duration = max(round(duration_s, 1), 1.0)
        entity_fields: dict[str, Any] = {}
        state_fields: dict[str, Any] = {}
        for name, f in self.fields.items():
            if name in taken:
                continue
            several = [vs for k, vs in f.per_key.items() if len(self.sequences[k]) > 1]
            constant = sum(len(vs) == 1 for vs in several) >= SHARE * len(several)
            everywhere = f.present >= SHARE * self.objects
            target = entity_fields if several and constant and everywhere else state_fields
            target[name] = generator_for(list(f.values.elements()))
        spec: dict[str, Any] = {
            "name": "from-recording",
            "seed": 1,
            "duration_s": duration,
            "rate": max(round(records / duration, 1), 0.1),
            "entities": {
                "key": key_generator([k.decode("utf-8", "replace") for k in keys]),
                "key_field": key_field,
                "fields": entity_fields,
            },
            "events": {
                "event_id": event_id,
                "state_field": state or "type",
                "version_field": version,
                "headers": self._header_sources(),
            },
            "lifecycle": self._lifecycle(state, state_fields),
        }
        return spec

    def _header_sources(self) -> dict[str, str]:
        found = {}
        for name, values in self.headers.items():
            for field_name, f in self.fields.items():
                texts = {str(v).encode() for v in f.values}
                if set(values) <= texts and len(values) > 1:
                    found[name] = field_name
                    break
        return found

    def _lifecycle(self, state: str | None, state_fields: dict[str, Any]) -> dict[str, Any]:
        if state is None:
            per_key = max(len(s) for s in self.sequences.values()) if self.sequences else 1
            stay = round(1 - 1 / max(per_key, 1), 2)
            self.notes.append("no state field: one state, repeated")
            return {"start": "event", "states": {"event": {"next": {"event": stay}}}}
        firsts: Counter[str] = Counter()
        moves: dict[str, Counter[str]] = defaultdict(Counter)
        seen: Counter[str] = Counter()
        for events in self.sequences.values():
            names = [str(e.get(state)) for e in events if state in e]
            if names:
                firsts[names[0]] += 1
            for a, b in pairwise(names):
                moves[a][b] += 1
            seen.update(names)
        start = firsts.most_common(1)[0][0] if firsts else "event"
        states: dict[str, Any] = {}
        for name in sorted(seen):
            # Rounded down, so the probabilities never sum above 1.
            nxt = {b: int(c / seen[name] * 100) / 100 for b, c in sorted(moves[name].items())}
            states[name] = {"next": {b: p for b, p in nxt.items() if p > 0}}
            carried = {
                f: gen
                for f, gen in state_fields.items()
                if self._share_in_state(state, name, f) >= 0.5
            }
            if carried:
                states[name]["fields"] = carried
        reachable, todo = {start}, [start]
        while todo:
            for target in states.get(todo.pop(), {}).get("next", {}):
                if target not in reachable:
                    reachable.add(target)
                    todo.append(target)
        for name in sorted(set(states) - reachable):
            self.notes.append(f"state {name!r} left out: never reached from {start!r} here")
            del states[name]
        for body in states.values():
            body["next"] = {t: p for t, p in body["next"].items() if t in states}
        return {"start": start, "states": states}

    def _share_in_state(self, state: str, value: str, name: str) -> float:
        """The share of the events in state `value` that carry field `name`."""
        events = [e for s in self.sequences.values() for e in s if str(e.get(state)) == value]
        return sum(name in e for e in events) / len(events) if events else 0.0


def key_generator(keys: list[str]) -> dict[str, Any]:
    """A fresh key per entity, spelled like these: a sequence, or a UUID."""
    proposed = generator_for(keys)
    inner = proposed.get("of", proposed)
    if "sequence" in inner or "uuid" in inner:
        return dict(inner)
    return {"sequence": "e-{n:06d}"}


def generator_for(values: list[Any]) -> dict[str, Any]:
    """A field generator that draws values like these."""
    present = [v for v in values if v is not None]
    if not present:
        return {"const": None}
    if all(isinstance(v, bool) for v in present):
        return {"choice": sorted(set(present))}
    if all(_integer(v) for v in present):
        return {"int": [min(present), max(present)]}
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return {"float": [min(present), max(present)], "decimals": 2}
    texts = [str(v) for v in present]
    distinct = sorted(set(texts))
    if len(distinct) <= MAX_CHOICES and len(distinct) < len(texts):
        return {"choice": distinct}
    if all(_UUID.match(t) for t in texts):
        return {"uuid": True}
    if all("@" in t for t in texts):
        return {"pool": len(distinct), "of": {"fake": "person.email"}}
    numbered = [_NUMBERED.match(t) for t in texts]
    if all(numbered) and len({m.group(1) for m in numbered if m}) == 1:
        first = next(m for m in numbered if m)
        width = max(len(m.group(2)) for m in numbered if m)
        return {"pool": len(distinct), "of": {"sequence": f"{first.group(1)}{{n:0{width}d}}"}}
    hexes = [_HEX.match(t) for t in texts]
    if all(hexes) and len({m.group(1) for m in hexes if m}) == 1:
        first = next(m for m in hexes if m)
        width = max(len(m.group(2)) for m in hexes if m)
        return {"pool": len(distinct), "of": {"sequence": f"{first.group(1)}{{n:0{width}x}}"}}
    return {"pool": len(distinct), "of": {"fake": "text.word"}}
