"""Keyed pseudonyms in recordings: consistent, keyed, and failing closed when they cannot hide."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chaosbus.streams.ledger import pseudonym
from chaosbus.traffic.errors import PrivacyRefused
from chaosbus.traffic.privacy import (
    HASH_KEY_ENV,
    Anonymiser,
    PrivacyPolicy,
    key_id,
    load_hash_key,
)
from chaosbus.traffic.records import TrafficRecord
from chaosbus.traffic.selectors import parse_selector, parse_selectors

KEY = b"k" * 32


def order(order_id: str, customer: str, **extra: object) -> TrafficRecord:
    doc = {"event_id": f"evt-{order_id}", "order_id": order_id, "customer": customer, **extra}
    return TrafficRecord(
        order_id.encode(),
        json.dumps(doc).encode(),
        (("event-id", f"evt-{order_id}".encode()), ("traceparent", b"00-abc")),
        1,
        0,
        5,
    )


def anonymiser(hashed: str, dropped: str = "", key: bytes | None = KEY) -> Anonymiser:
    policy = PrivacyPolicy(parse_selectors([hashed]), parse_selectors([dropped]))
    return Anonymiser(policy, key)


ALL_IDS = "key,$.order_id,$.customer,$.event_id,header:event-id"


class TestPseudonyms:
    def test_each_identifier_becomes_the_keyed_hash_the_ledger_uses(self) -> None:
        """Key, JSON fields and headers become h- + HMAC-SHA256(key, value), 24 hex digits."""
        out = anonymiser(ALL_IDS).apply(order("o-0001", "alice@example.org"))
        assert out is not None
        doc = json.loads(out.value or b"")
        assert out.key == pseudonym(KEY, b"o-0001").encode()
        assert doc["customer"] == pseudonym(KEY, b"alice@example.org")
        assert doc["order_id"] == out.key.decode()  # the same id in two places: one pseudonym
        assert dict(out.headers)["event-id"] == doc["event_id"].encode()
        assert dict(out.headers)["traceparent"] == b"00-abc"

    def test_the_same_customer_keeps_one_pseudonym_across_records(self) -> None:
        """Two orders of one customer still share a customer after hashing."""
        hide = anonymiser(ALL_IDS)
        first, second = hide.apply(order("o-1", "bob")), hide.apply(order("o-2", "bob"))
        assert first is not None
        assert second is not None
        assert (
            json.loads(first.value or b"")["customer"]
            == json.loads(second.value or b"")["customer"]
        )
        assert first.key != second.key

    def test_another_key_gives_unlinkable_pseudonyms(self) -> None:
        """The same recording hashed with two keys shares no pseudonym."""
        one = anonymiser(ALL_IDS, key=KEY).apply(order("o-1", "bob"))
        two = anonymiser(ALL_IDS, key=b"z" * 32).apply(order("o-1", "bob"))
        assert one is not None
        assert two is not None
        assert one.key != two.key
        assert key_id(KEY) != key_id(b"z" * 32)

    def test_numbers_and_nested_fields_are_hashed_by_their_json_text(self) -> None:
        """$.account.id = 42 becomes the pseudonym of b"42"; a missing path is left alone."""
        record = TrafficRecord(b"key-1", b'{"account": {"id": 42}, "n": [1, 2]}', (), 0)
        hide = Anonymiser(PrivacyPolicy(parse_selectors(["key,$.account.id,$.absent.path"])), KEY)
        out = hide.apply(record)
        assert out is not None
        assert json.loads(out.value or b"") == {
            "account": {"id": pseudonym(KEY, b"42")},
            "n": [1, 2],
        }
        assert hide.counts == {"key": 1, "$.account.id": 1}

    def test_dropped_fields_and_headers_are_gone(self) -> None:
        """--drop-fields removes a JSON field and every header of a name."""
        out = anonymiser(ALL_IDS, "$.note,header:traceparent").apply(
            order("o-1", "bob", note="call me at 555-0100")
        )
        assert out is not None
        assert "note" not in json.loads(out.value or b"")
        assert [name for name, _ in out.headers] == ["event-id"]


class TestFailClosed:
    def test_hashing_without_a_key_is_refused(self) -> None:
        """No key: refused before any record, saying where a key comes from."""
        with pytest.raises(PrivacyRefused, match=f"--hash-key-file PATH or {HASH_KEY_ENV}"):
            anonymiser("key", key=None)

    def test_an_identifier_left_in_clear_elsewhere_stops_the_recording(self) -> None:
        """Hashing the key alone leaves the order id in clear: refused, every place named."""
        with pytest.raises(PrivacyRefused) as refused:
            anonymiser("key").apply(order("o-0001", "bob"))
        assert "still in clear in header:event-id, $.event_id, $.order_id:" in str(refused.value)
        assert "partition 0 offset 5" in str(refused.value)

    def test_an_identifier_left_in_a_header_stops_the_recording(self) -> None:
        """Hashing $.event_id but not the event-id header that repeats it is refused."""
        with pytest.raises(PrivacyRefused, match="in clear in header:event-id"):
            anonymiser("key,$.order_id,$.event_id").apply(order("o-0001", "bob"))

    def test_a_value_that_is_not_json_is_skipped_not_written(self) -> None:
        """JSON fields to hash in a value that is not JSON: the record is left out, counted."""
        hide = anonymiser("key,$.customer")
        assert hide.apply(TrafficRecord(b"k", b"customer=bob", (), 0)) is None
        assert hide.skipped == {"the value is not JSON": 1}

    def test_the_key_cannot_be_dropped(self) -> None:
        """Replay partitions by key: dropping it is refused, hashing it is the way."""
        with pytest.raises(PrivacyRefused, match="cannot be dropped"):
            PrivacyPolicy(drop=(parse_selector("key"),))

    def test_a_short_key_is_refused(self, tmp_path: Path) -> None:
        """A hashing key under 16 bytes is refused with its length."""
        short = tmp_path / "key"
        short.write_bytes(b"secret\n")
        with pytest.raises(PrivacyRefused, match="has 6 bytes; it needs at least 16"):
            load_hash_key(short)

    def test_the_key_comes_from_a_file_else_the_environment(self, tmp_path: Path) -> None:
        """The file wins over CHAOSBUS_HASH_KEY; a final newline is not part of the key."""
        path = tmp_path / "key"
        path.write_bytes(KEY + b"\n")
        environ = {HASH_KEY_ENV: "e" * 20}
        assert load_hash_key(path, environ) == KEY
        assert load_hash_key(None, environ) == b"e" * 20
        assert load_hash_key(None, {}) is None


class TestSelectors:
    @pytest.mark.parametrize("text", ["$", "$.", "$.a..b", "customer", "header:", "$a"])
    def test_a_malformed_selector_is_refused(self, text: str) -> None:
        """Only key, header:NAME and $.dotted.path are selectors."""
        with pytest.raises(ValueError, match=r"a field is key|names the header"):
            parse_selector(text)

    def test_selectors_split_on_commas_and_deduplicate(self) -> None:
        """Repeated options and comma lists give each selector once, in order."""
        found = parse_selectors(["key,$.a", "$.a, header:x"])
        assert [str(s) for s in found] == ["key", "$.a", "header:x"]
