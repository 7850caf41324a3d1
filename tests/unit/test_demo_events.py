"""The demo's two readings of an order event: the safe refusal and the naive leniency."""

from __future__ import annotations

import json

import pytest

from chaosbus_demo.events import BadEvent, OrderEvent, parse_event, read_leniently

PAID = OrderEvent(
    event_id="e1", type="paid", order_id="o-1", version=3, customer="c-01", status="paid",
    total=4599, amount=4599,
)  # fmt: skip
DOC = PAID.to_dict()


def drifted(**changes: object) -> bytes:
    doc = {**DOC, **changes}
    return json.dumps({k: v for k, v in doc.items() if v is not None}).encode()


# What corrupt and schema_drift make of a paid event (injectors/corrupt.py, schema_drift.py).
GARBAGE = {
    "truncated": PAID.to_json()[:20],
    "non_json": b"\x00<not-json>" + PAID.to_json(),
    "invalid_utf8": PAID.to_json()[:4] + b"\x80\xc0\xaf" + PAID.to_json()[4:],
    "not_an_object": b"[1, 2]",
    "deep": b"[" * 100_000,
    "version_removed": drifted(version=None),
    "version_retyped": drifted(version="3"),
    "amount_retyped": drifted(amount="4599"),
    "unknown_type": drifted(type="__unknown__"),
    "id_renamed": json.dumps({**{k: v for k, v in DOC.items() if k != "event_id"},
                              "event_id_v2": "e1"}).encode(),
}  # fmt: skip


class TestSafeReading:
    @pytest.mark.parametrize("name", list(GARBAGE))
    def test_refuses_every_garbage_copy(self, name: str) -> None:
        """Each damaged or drifted copy is a BadEvent the service skips, never a crash."""
        with pytest.raises(BadEvent):
            parse_event(GARBAGE[name])

    def test_an_unexpected_extra_field_is_still_the_event(self) -> None:
        """An added field changes nothing: the copy is the same event, deduplicated by id."""
        assert parse_event(drifted(surprise=1)) == PAID


class TestNaiveReading:
    @pytest.mark.parametrize("kind", ["created", "updated", "paid", "cancelled"])
    def test_reads_an_intact_event_as_the_safe_reading_does(self, kind: str) -> None:
        """On well-formed input the two readings agree: only garbage tells them apart."""
        amount = 4599 if kind == "paid" else None
        event = OrderEvent(**{**DOC, "type": kind, "amount": amount})  # type: ignore[arg-type]
        assert read_leniently(event.to_json()) == parse_event(event.to_json()) == event

    def test_takes_what_it_can_half_read(self) -> None:
        """Retyped numbers read as numbers, a missing version as 0, an unknown type as an update."""
        assert read_leniently(GARBAGE["amount_retyped"]) == PAID
        assert read_leniently(GARBAGE["version_retyped"]) == PAID
        assert read_leniently(GARBAGE["version_removed"]).version == 0
        assert read_leniently(GARBAGE["unknown_type"]).type == "updated"
        spliced = read_leniently(GARBAGE["invalid_utf8"])  # the splice lands in a key
        assert (spliced.event_id, spliced.amount, spliced.customer) == ("", 4599, "c-01")

    @pytest.mark.parametrize("name", ["truncated", "non_json", "not_an_object", "deep"])
    def test_only_a_value_with_no_json_object_is_refused(self, name: str) -> None:
        """No JSON object at all: even the naive reader has nothing to apply."""
        with pytest.raises(BadEvent):
            read_leniently(GARBAGE[name])
