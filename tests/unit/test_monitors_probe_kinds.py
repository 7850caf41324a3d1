"""Probe kinds as registered things: the experiment's union and error come from the registry,
each kind says its shape, and the readers every kind opens to read state and effects one way."""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Literal, Self

import pytest
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from chaosbus.clients.connection import KafkaSettings
from chaosbus.experiment.monitor import CheckSpec, probe_config_union
from chaosbus.monitors.history import Effect, Observation
from chaosbus.monitors.probes import registry
from chaosbus.monitors.probes.kind import (
    OpenedReader,
    ProbeContext,
    ProbeKind,
    listing_reader,
    state_reader,
)
from chaosbus.monitors.probes.registry import PROBE_KINDS, reads_effects, shape_of

CONTEXT = ProbeContext(KafkaSettings("127.0.0.1:1"), "redis://127.0.0.1:1")

PROBES = {
    "redis": ({"key": "order:{entity}"}, "state"),
    "http-state": ({"kind": "http", "url": "http://s/orders/{entity}", "json": "$.v"}, "state"),
    "http-listing": ({"kind": "http", "url": "http://s/effects", "json": "$.ids"}, "listing"),
    "kafka": ({"kind": "kafka", "topic": "effects", "event_id": {"json": "$.id"}}, "topic"),
    "sql-state": (
        {"kind": "sql", "dsn": "postgresql://x", "query": "select v from t where id = %(entity)s"},
        "state",
    ),
    "sql-listing": (
        {"kind": "sql", "dsn": "postgresql://x", "query": "select id from e"},
        "listing",
    ),
}


def probe(raw: dict[str, object]) -> object:
    model = "counter"  # takes either shape
    return CheckSpec.model_validate({"name": "c", "model": model, "probe": raw}).probe


class TestRegistry:
    def test_kinds_in_file_order_with_redis_first(self) -> None:
        """The registry names the four kinds, redis (the default) first."""
        assert list(PROBE_KINDS) == ["redis", "http", "kafka", "sql"]
        assert registry.DEFAULT_KIND == "redis"

    def test_each_kind_validates_to_its_config_and_shape(self) -> None:
        """A file's probe becomes its kind's config model, whose shape follows its template."""
        for label, (raw, shape) in PROBES.items():
            config = probe(raw)
            kind = PROBE_KINDS[label.split("-")[0]]
            assert isinstance(config, kind.config), label
            assert shape_of(config) == shape, label  # type: ignore[arg-type]
            assert reads_effects(config) is (shape != "state"), label  # type: ignore[arg-type]

    def test_unknown_kind_names_the_registered_ones(self) -> None:
        """An unknown kind is one error listing the registry's kinds in order."""
        with pytest.raises(ValidationError, match="expected one of redis, http, kafka, sql"):
            probe({"kind": "mongo"})

    def test_the_union_is_built_from_the_registry(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """A kind added to the registry is accepted by the union built from it, under its
        own tag; nothing else needs to know it."""

        class MemoConfig(BaseModel):
            model_config = ConfigDict(frozen=True, extra="forbid")
            kind: Literal["memo"] = "memo"
            note: str

        def never(config: MemoConfig, context: ProbeContext) -> OpenedReader:
            raise AssertionError("not opened in this test")

        memo = ProbeKind(name="memo", config=MemoConfig, shape=lambda _: "state", open=never)
        monkeypatch.setitem(PROBE_KINDS, "memo", memo)
        adapter: TypeAdapter[object] = TypeAdapter(probe_config_union())
        parsed = adapter.validate_python({"kind": "memo", "note": "hi"})
        assert parsed == MemoConfig(note="hi")
        assert shape_of(parsed) == "state"  # type: ignore[arg-type]
        with pytest.raises(ValidationError, match="expected one of redis, http, kafka, sql, memo"):
            adapter.validate_python({"kind": "nope"})


class FakeState:
    """A state probe answering from a dict, recording what it was asked."""

    def __init__(self, values: dict[str, int]) -> None:
        self.values = values
        self.unparsable = 0
        self.asked: list[list[str]] = []
        self.open = False

    async def __aenter__(self) -> Self:
        self.open = True
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.open = False

    async def observe(self, entities: Sequence[str], now_ms: int) -> list[Observation]:
        self.asked.append(list(entities))
        return [Observation(e, now_ms, self.values[e]) for e in entities if e in self.values]


class FakeListing(FakeState):
    """An effects listing: every read lists every id in `listed`, in order."""

    def __init__(self, listed: list[str]) -> None:
        super().__init__({})
        self.listed = listed

    async def effects(self, now_ms: int) -> list[Effect]:
        return [Effect(event_id, now_ms) for event_id in self.listed]


class TestReaders:
    async def test_state_reader_observes_the_entities_it_is_given(self) -> None:
        """A state read observes exactly the given entities, within the probe's lifetime."""
        fake = FakeState({"a": 3})
        async with state_reader(fake) as reader:
            assert fake.open
            reading = await reader.read(["a", "b"], 50)
        assert not fake.open
        assert (fake.asked, list(reading.observations), list(reading.effects)) == (
            [["a", "b"]],
            [Observation("a", 50, 3)],
            [],
        )

    async def test_live_listing_takes_a_baseline_then_returns_what_is_new(self) -> None:
        """From now: what was listed at opening is not the run's; later reads return only
        the new listings (an id listed again is a new effect), stamped when first seen."""
        fake = FakeListing(["old", "old"])
        async with listing_reader(fake, from_now=True) as reader:
            assert list((await reader.read([], 10)).effects) == []
            fake.listed = ["old", "old", "x", "old"]
            assert list((await reader.read([], 20)).effects) == [Effect("x", 20), Effect("old", 20)]
            assert list((await reader.read([], 30)).effects) == []

    async def test_listing_after_the_fact_returns_everything_once(self) -> None:
        """Not from now (`check`): the first read returns every listed effect."""
        fake = FakeListing(["a", "b", "a"])
        async with listing_reader(fake, from_now=False) as reader:
            effects = (await reader.read([], 5)).effects
        assert [e.event_id for e in effects] == ["a", "b", "a"]
