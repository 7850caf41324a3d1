"""Generated traffic: lifecycles in order, interleaved, seeded, ramping; specs refused by path."""

from __future__ import annotations

import copy
import json
from collections import Counter, defaultdict
from itertools import pairwise
from typing import Any

import pytest

from chaosbus.traffic.errors import SpecInvalid
from chaosbus.traffic.generator import generate
from chaosbus.traffic.generator_spec import TrafficSpec, parse_traffic_spec

SPEC: dict[str, Any] = {
    "name": "orders",
    "seed": 7,
    "duration_s": 20,
    "ramp": {"from": 50, "to": 500, "over_s": 10},
    "arrivals": "even",
    "entities": {
        "key": {"sequence": "o-{n:05d}"},
        "key_field": "order_id",
        "open": 20,
        "fields": {"customer": {"pool": 15, "of": {"fake": "person.email"}}},
    },
    "events": {"headers": {"event-id": "event_id"}},
    "lifecycle": {
        "start": "created",
        "states": {
            "created": {"next": {"updated": 0.6, "paid": 0.3, "cancelled": 0.1}},
            "updated": {"next": {"updated": 0.3, "paid": 0.6}},
            "paid": {"fields": {"amount": {"int": [100, 90000]}}},
            "cancelled": {"tombstone": True},
        },
    },
}


def spec(**changes: Any) -> TrafficSpec:
    data = copy.deepcopy(SPEC)
    data.update(changes)
    return parse_traffic_spec(data, "spec.yaml")


def refusal(mutate: Any) -> str:
    data = copy.deepcopy(SPEC)
    mutate(data)
    with pytest.raises(SpecInvalid) as refused:
        parse_traffic_spec(data, "spec.yaml")
    return str(refused.value)


class TestLifecycles:
    def test_each_entity_moves_through_its_lifecycle_with_rising_versions(self) -> None:
        """Per key: created first, versions 1, 2, 3…, only declared transitions, ends last."""
        allowed = {("created", "updated"), ("created", "paid"), ("created", "cancelled")}
        allowed |= {("updated", "updated"), ("updated", "paid")}
        per_key: dict[bytes, list[tuple[str, int]]] = defaultdict(list)
        for record in generate(spec()):
            assert record.key is not None
            if record.value is None:
                per_key[record.key].append(("cancelled", 0))
                continue
            doc = json.loads(record.value)
            assert doc["order_id"] == record.key.decode()
            assert dict(record.headers)["event-id"] == doc["event_id"].encode()
            per_key[record.key].append((doc["type"], doc["version"]))
        for events in per_key.values():
            states = [s for s, _ in events]
            assert states[0] == "created"
            versions = [v for s, v in events if s != "cancelled"]
            assert versions == list(range(1, len(versions) + 1))
            assert all(pair in allowed for pair in pairwise(states))
            assert all(s not in ("paid", "cancelled") for s in states[:-1])

    def test_entities_interleave(self) -> None:
        """With 20 open entities, some key's events are not consecutive in the stream."""
        keys = [r.key for r in generate(spec())][:200]
        runs = sum(1 for a, b in pairwise(keys) if a != b)
        assert runs > 150

    def test_a_seed_gives_the_same_records_ids_included(self) -> None:
        """Two runs of one spec are equal; another seed differs."""
        first, again = list(generate(spec())), list(generate(spec()))
        assert first == again
        assert list(generate(spec(), seed=8)) != first

    def test_payment_fields_only_where_declared_and_deletes_as_tombstones(self) -> None:
        """amount only on paid events; cancelled ones are tombstones; customers from a pool."""
        records = list(generate(spec()))
        docs = [json.loads(r.value) for r in records if r.value is not None]
        assert all(("amount" in d) == (d["type"] == "paid") for d in docs)
        assert all(100 <= d["amount"] <= 90000 for d in docs if "amount" in d)
        assert any(r.value is None for r in records)
        assert 1 < len({d["customer"] for d in docs}) <= 15
        assert all("@" in d["customer"] for d in docs)


class TestRate:
    def test_even_arrivals_follow_the_ramp_second_by_second(self) -> None:
        """from 50 to 500 over 10 s, then 500/s: each second's count is the ramp's mean."""
        per_second = Counter(r.timestamp_ms // 1000 for r in generate(spec()))
        for second in range(10):
            expected = 50 + 45 * (second + 0.5)
            assert abs(per_second[second] - expected) <= 2, (second, per_second[second])
        assert all(abs(per_second[s] - 500) <= 1 for s in range(10, 20))

    def test_a_burst_multiplies_the_rate_for_its_window(self) -> None:
        """factor 4 from 12 s to 14 s: 2,000 a second there, 500 around it."""
        bursting = spec(bursts=[{"at_s": 12, "for_s": 2, "factor": 4}])
        per_second = Counter(r.timestamp_ms // 1000 for r in generate(bursting))
        assert [per_second[s] for s in (11, 12, 13, 14)] == [500, 2000, 2000, 500]

    def test_count_stops_early(self) -> None:
        """count: 100 ends the traffic at 100 events."""
        assert sum(1 for _ in generate(spec(count=100))) == 100


class TestRefusals:
    def test_probabilities_above_one(self) -> None:
        """A state whose next probabilities sum to 1.2 is named with the sum."""
        message = refusal(lambda d: d["lifecycle"]["states"]["updated"]["next"].update(paid=0.9))
        assert "lifecycle.states.updated.next: the probabilities sum to 1.2, above 1" in message

    def test_an_unreachable_state(self) -> None:
        """A state no transition reaches is named."""
        message = refusal(lambda d: d["lifecycle"]["states"].update(refunded={}))
        assert "lifecycle.states.refunded: unreachable from 'created'" in message

    def test_a_transition_to_no_state(self) -> None:
        """next naming an undeclared state is named by its path."""
        message = refusal(lambda d: d["lifecycle"]["states"]["created"]["next"].update(x=0.0))
        assert "lifecycle.states.created.next.x: no state named 'x'" in message

    def test_rate_and_ramp_together(self) -> None:
        """One of rate or ramp."""
        assert "rate: give rate" in refusal(lambda d: d.update(rate=5))

    def test_an_unknown_fake_provider(self) -> None:
        """{fake: person.nope} names what mimesis lacks."""
        message = refusal(lambda d: d["entities"]["fields"].update(x={"fake": "person.nope"}))
        assert "entities.fields.x.fake: mimesis provider 'person' has no 'nope'" in message

    def test_a_header_from_no_field(self) -> None:
        """A header copying a field the events do not have."""
        message = refusal(lambda d: d["events"]["headers"].update(trace="nope"))
        assert "events.headers.trace: no payload field 'nope'" in message
