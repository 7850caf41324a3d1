"""Extractors: reading ids, entities, versions, deletes and amounts from source messages."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from chaosbus.injectors.envelope import Envelope, SourceCoordinates
from chaosbus.monitors import ExtractorConfig, MonitorConfig, compile_extractors


def envelope(
    value: Any = None,
    *,
    key: bytes | None = b"k1",
    raw: bytes | None = None,
    headers: tuple[tuple[str, bytes], ...] = (),
    offset: int = 7,
    tombstone: bool = False,
) -> Envelope:
    body = None if tombstone else raw if raw is not None else json.dumps(value).encode()
    return Envelope(
        key=key,
        value=body,
        headers=headers,
        timestamp_ms=1_000,
        source=SourceCoordinates("orders", 2, offset),
    )


def config(**fields: Any) -> ExtractorConfig:
    return ExtractorConfig.model_validate(fields)


class TestConfig:
    def test_unknown_keys_are_rejected(self) -> None:
        """A typo in the extractor config fails validation rather than being ignored."""
        with pytest.raises(ValidationError):
            config(event_idd={"json": "$.id"})

    def test_json_path_must_start_at_root(self) -> None:
        """A path not starting with '$.' is refused with the rule in the message."""
        with pytest.raises(ValidationError, match=r"\$\."):
            config(event_id={"json": "id"})

    def test_yaml_shape_round_trips(self) -> None:
        """The documented YAML keys (json, header, path/equals, record_key) all parse."""
        parsed = MonitorConfig.model_validate(
            {
                "source_topic": "orders",
                "model": "entity",
                "extract": {
                    "event_id": {"header": "x-id"},
                    "entity": {"json": "$.order.id"},
                    "version": {"json": "$.v"},
                    "delete": {"path": "$.s", "equals": "gone"},
                },
            }
        )
        dumped = parsed.model_dump(by_alias=True)
        assert dumped["extract"]["entity"] == {"json": "$.order.id"}


class TestExtraction:
    def test_defaults_use_key_offset_and_coordinates(self) -> None:
        """With nothing declared: entity = record key, version = offset, id = coordinates."""
        event = compile_extractors(ExtractorConfig())(envelope({"a": 1}))
        assert event is not None
        assert (event.entity, event.version, event.event_id) == ("k1", 7, "orders:2:7")
        assert event.coords == ("orders", 2, 7)

    def test_json_paths_read_nested_fields_and_list_indexes(self) -> None:
        """Dotted paths walk objects, and digit segments index lists."""
        extract = compile_extractors(
            config(
                event_id={"json": "$.meta.id"},
                entity={"json": "$.items.0.sku"},
                version={"json": "$.meta.v"},
                amount={"json": "$.total"},
            )
        )
        event = extract(
            envelope({"meta": {"id": 42, "v": "10"}, "items": [{"sku": "A"}], "total": 2.5})
        )
        assert event is not None
        assert (event.event_id, event.entity, event.version, event.amount) == ("42", "A", 10, 2.5)

    def test_headers_supply_id_and_version(self) -> None:
        """Header extractors decode UTF-8 and versions become numbers."""
        extract = compile_extractors(config(event_id={"header": "x-id"}, version={"header": "x-v"}))
        event = extract(envelope({}, headers=(("x-id", b"abc"), ("x-v", b"3"))))
        assert event is not None
        assert (event.event_id, event.version) == ("abc", 3)

    def test_json_delete_condition(self) -> None:
        """A payload whose field equals the marker is a delete; a missing field is not."""
        extract = compile_extractors(config(delete={"path": "$.status", "equals": "deleted"}))
        deleted = extract(envelope({"status": "deleted"}))
        kept = extract(envelope({"other": 1}))
        assert deleted is not None
        assert deleted.is_delete
        assert kept is not None
        assert not kept.is_delete
        assert not extract.unparsable

    def test_tombstone_delete_falls_back_for_payload_fields(self) -> None:
        """A tombstone is a delete; its JSON id falls back to coordinates, its version to None."""
        extract = compile_extractors(
            config(event_id={"json": "$.id"}, version={"json": "$.v"}, delete="tombstone")
        )
        event = extract(envelope(tombstone=True))
        assert event is not None
        assert (event.is_delete, event.event_id, event.version) == (True, "orders:2:7", None)
        assert not extract.unparsable


class TestUnparsable:
    def test_non_json_payload_is_counted_not_raised(self) -> None:
        """Bytes that are not JSON skip the message and count under 'payload'."""
        extract = compile_extractors(config(event_id={"json": "$.id"}))
        assert extract(envelope(raw=b"\xff not json")) is None
        assert extract.unparsable == {"payload": 1}

    @pytest.mark.parametrize(
        ("fields", "value", "failed"),
        [
            ({"event_id": {"json": "$.id"}}, {"x": 1}, "event_id"),
            ({"entity": {"json": "$.order"}}, {"order": {"nested": 1}}, "entity"),
            ({"version": {"json": "$.v"}}, {"v": "ten"}, "version"),
            ({"amount": {"json": "$.n"}}, {"n": True}, "amount"),
        ],
    )
    def test_missing_or_wrong_field_counts_under_its_extractor(
        self, fields: dict[str, Any], value: Any, failed: str
    ) -> None:
        """Each extractor that cannot read its field is counted by name and the event skipped."""
        extract = compile_extractors(config(**fields))
        assert extract(envelope(value)) is None
        assert extract.unparsable == {failed: 1}

    def test_missing_record_key_counts_under_entity(self) -> None:
        """A keyless message cannot name its entity when the entity is the record key."""
        extract = compile_extractors(ExtractorConfig())
        assert extract(envelope({}, key=None)) is None
        assert extract.unparsable == {"entity": 1}

    @pytest.mark.parametrize(
        ("field", "raw"),
        [
            ("version", b'{"v": NaN}'),
            ("version", b'{"v": "Infinity"}'),
            ("amount", b'{"n": -Infinity}'),
            ("amount", b'{"n": "nan"}'),
        ],
    )
    def test_non_finite_numbers_are_unparsable_not_divergent(self, field: str, raw: bytes) -> None:
        """NaN and the infinities (JSON literals or strings) are not versions or amounts."""
        path = {"version": "$.v", "amount": "$.n"}[field]
        extract = compile_extractors(config(**{field: {"json": path}}))
        assert extract(envelope(raw=raw)) is None
        assert extract.unparsable == {field: 1}

    def test_one_unreadable_message_counts_once(self) -> None:
        """A message missing both its id and its entity counts once, under event_id."""
        extract = compile_extractors(config(event_id={"json": "$.id"}))
        assert extract(envelope({}, key=None)) is None
        assert extract.unparsable == {"event_id": 1}

    def test_an_absent_or_null_amount_adds_nothing(self) -> None:
        """Events without an amount (order updates beside payments) are read, not skipped."""
        extract = compile_extractors(config(amount={"json": "$.n"}))
        absent, null = extract(envelope({"x": 1})), extract(envelope({"n": None}))
        assert absent is not None
        assert null is not None
        assert (absent.amount, null.amount) == (None, None)
        assert extract.unparsable == {}
