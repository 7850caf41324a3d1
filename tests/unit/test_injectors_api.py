"""The public surface of `injectors`: names, registry and the stable RNG derivation."""

from __future__ import annotations

import ast
import hashlib
import importlib
import pathlib
import random
from typing import get_args

import pytest

from chaosbus import injectors
from chaosbus.injectors.injector import Injector
from chaosbus.injectors.registry import INJECTORS
from chaosbus.injectors.rng import DecisionSource, decision_stream, key_fraction

PUBLIC = {
    "CAPS", "COUNT_KEYS", "DISCRIMINATOR_LABELS", "FAULT_TYPES", "INJECTORS",
    "BlastRadius", "Decision", "DecisionSource", "DecisionStream",
    "Distribution", "Emission", "Envelope", "ExponentialDelay", "Fault", "FaultConfig",
    "FaultFile", "FaultPlan", "FixedDelay", "Headers", "Injector", "InjectorError",
    "JsonCondition", "MatchSpec", "ProtectedTopicError", "SourceCoordinates", "SpecError",
    "SpikeDelay", "Told", "Trigger", "UniformDelay", "decision_stream", "error_path",
    "format_validation_error", "key_fraction", "parse_fault_document",
    # every fault's config
    "CorruptFault", "DelayFault", "DropFault", "DuplicateFault", "OutageFault", "ReorderFault",
    "ReplayFault", "SchemaDriftFault", "StallFault",
}  # fmt: skip

PACKAGE = pathlib.Path(injectors.__file__).parent


class TestPublicNames:
    def test_all_is_pinned(self) -> None:
        """`__all__` lists exactly the agreed public names, so API changes are deliberate."""
        assert set(injectors.__all__) == PUBLIC
        assert len(injectors.__all__) == len(PUBLIC)

    def test_every_public_name_resolves(self) -> None:
        """Every name in `__all__` is importable from the package."""
        for name in injectors.__all__:
            assert getattr(injectors, name) is not None

    def test_errors_share_one_base(self) -> None:
        """SpecError and ProtectedTopicError are caught by one `except InjectorError`."""
        assert issubclass(injectors.SpecError, injectors.InjectorError)
        assert issubclass(injectors.ProtectedTopicError, injectors.InjectorError)


class TestPurity:
    def test_no_io_or_clock_imports(self) -> None:
        """The fault model imports no asyncio, Kafka, Redis, clock or global-random module."""
        banned = {"asyncio", "aiokafka", "faust", "redis", "time", "datetime", "secrets"}
        for path in PACKAGE.rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = {node.module.split(".")[0]}
                else:
                    continue
                assert not names & banned, f"{path} imports {names & banned}"


class TestRegistry:
    def test_one_entry_per_fault_type(self) -> None:
        """The registry names exactly the fault types, each under its own name."""
        assert set(INJECTORS) == set(injectors.FAULT_TYPES)
        assert all(entry.name == name for name, entry in INJECTORS.items())

    def test_only_the_holding_injectors_flush(self) -> None:
        """Reorder, outage and replay keep messages inside the plan and can flush them; a
        stall keeps none but flushes too, which ends it."""
        counted = {name for name, entry in INJECTORS.items() if entry.held is not None}
        assert counted == {"reorder", "outage", "replay"}
        flushing = {name for name, entry in INJECTORS.items() if entry.flush is not None}
        assert flushing == counted | {"stall"}

    def test_every_fault_module_is_listed_and_its_config_exported(self) -> None:
        """Each module that declares a `FAULT` is in the registry under its config's type,
        and its config class is a public name of the package."""
        declared = {}
        for path in sorted(PACKAGE.glob("*.py")):
            module = importlib.import_module(f"chaosbus.injectors.{path.stem}")
            if isinstance(getattr(module, "FAULT", None), Injector):
                declared[path.stem] = module.FAULT
        assert declared == dict(INJECTORS)
        for entry in INJECTORS.values():
            assert getattr(injectors, entry.config.__name__) is entry.config
            assert entry.config.__name__ in injectors.__all__

    def test_the_lists_derive_from_the_registry(self) -> None:
        """FAULT_TYPES keep the order faults were added in; the counts add pass and non_json;
        the schema's union holds every config."""
        assert injectors.FAULT_TYPES == (
            "duplicate", "reorder", "delay", "drop", "corrupt", "schema_drift", "replay",
            "outage", "stall",
        )  # fmt: skip
        assert ("pass", *injectors.FAULT_TYPES, "non_json") == injectors.COUNT_KEYS
        assert set(get_args(get_args(injectors.Fault)[0])) == {
            entry.config for entry in INJECTORS.values()
        }


def blake2b(data: bytes, key: bytes = b"") -> bytes:
    """BLAKE2b-512 as decision 0130 writes it down, independently of `injectors.rng`."""
    return hashlib.blake2b(data, digest_size=64, key=key, person=b"chaosbus-inj-v2").digest()


def uniform(word: bytes) -> float:
    return (int.from_bytes(word, "big") >> 11) / 2**53


class TestRng:
    def test_decision_stream_is_pinned(self) -> None:
        """The derivation is stable across processes and releases: these values never change."""
        stream = decision_stream(42, "orders.nocode", 3, 1000)
        assert stream.draws(3) == PINNED_DRAWS
        assert stream.getrandbits(32) == PINNED_BITS

    def test_draws_are_the_documented_digest(self) -> None:
        """Draw j is the j-th 8-byte word of block 0, then of block k keyed with block 0."""
        # Each field as its length, 0x1f, the field, 0x1f.
        fields = b"8\x1fdecision\x1f2\x1f42\x1f13\x1forders.nocode\x1f1\x1f3\x1f4\x1f1000\x1f"
        first = blake2b(fields)
        second = blake2b((1).to_bytes(8, "big"), key=first)
        words = first + second
        expected = [uniform(words[8 * j : 8 * j + 8]) for j in range(12)]
        assert decision_stream(42, "orders.nocode", 3, 1000).draws(12) == expected

    def test_the_injector_continues_after_the_draws(self) -> None:
        """Draws, then `random()`, `getrandbits` and the draws of 9+ faults read one stream."""
        whole = decision_stream(1, "t", 0, 0).draws(20)
        stream = decision_stream(1, "t", 0, 0)
        assert stream.draws(4) == whole[:4]
        assert [stream.random() for _ in range(6)] == whole[4:10]
        assert stream.draws(10) == whole[10:]
        bits = decision_stream(1, "t", 0, 0)
        high, low = bits.getrandbits(64), bits.getrandbits(64)
        assert decision_stream(1, "t", 0, 0).getrandbits(128) == high << 64 | low
        assert decision_stream(1, "t", 0, 0).getrandbits(11) == high >> 53
        assert bits.getrandbits(0) == 0

    def test_decision_stream_depends_on_each_coordinate(self) -> None:
        """Changing seed, route, partition or offset changes the stream."""
        base = decision_stream(1, "t", 0, 0).draws(1)
        others = [
            decision_stream(2, "t", 0, 0),
            decision_stream(1, "u", 0, 0),
            decision_stream(1, "t", 1, 0),
            decision_stream(1, "t", 0, 1),
            decision_stream(1, "t0", 0, 0),  # the fields are length-prefixed: no ("t0", 0)
        ]
        assert all(stream.draws(1) != base for stream in others)

    def test_a_source_derives_what_a_stream_from_scratch_does(self) -> None:
        """`DecisionSource` (a plan's cached derivation) equals `decision_stream`, any route."""
        source = DecisionSource(-7)
        for route, partition, offset in [("é", 0, 0), ("t", 2, 10**15), ("é", 1, 5)]:
            cached = source.stream(route, partition, offset)
            assert cached.draws(9) == decision_stream(-7, route, partition, offset).draws(9)

    def test_decision_stream_is_a_private_random_that_cannot_be_reseeded(self) -> None:
        """Each call returns its own `random.Random`; seeding or setting its state is refused."""
        first = decision_stream(1, "t", 0, 0)
        assert isinstance(first, random.Random)
        assert first is not decision_stream(1, "t", 0, 0)
        assert sorted(first.sample(range(10), 10)) == list(range(10))
        with pytest.raises(TypeError):
            first.seed(3)
        with pytest.raises(TypeError):
            first.setstate(random.Random(3).getstate())
        with pytest.raises(ValueError, match="non-negative"):
            first.getrandbits(-1)

    def test_key_fraction_is_stable_and_in_range(self) -> None:
        """`key_fraction` is reproducible, within [0, 1) and tells null from empty keys."""
        values = [key_fraction(7, f"key-{i}".encode()) for i in range(500)]
        assert all(0.0 <= v < 1.0 for v in values)
        assert values == [key_fraction(7, f"key-{i}".encode()) for i in range(500)]
        assert key_fraction(7, None) != key_fraction(7, b"")
        assert 0.4 < sum(values) / len(values) < 0.6

    def test_key_fraction_kept_its_values(self) -> None:
        """Decision 0130 changed decisions, not key fractions: the first derivation's values."""
        assert key_fraction(7, b"key-0") == 0.3270709233341774
        assert key_fraction(7, None) == 0.3043984668736476


# Computed once from the derivation of decision 0130; a change here breaks replay of old runs.
PINNED_DRAWS = [0.24221619538006844, 0.6759655994351799, 0.7127545606033304]
PINNED_BITS = 1511189858
