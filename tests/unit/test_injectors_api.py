"""The public surface of `injectors`: names, registry and the stable RNG derivation."""

from __future__ import annotations

import ast
import pathlib
import random

import injectors
from injectors.registry import INJECTORS
from injectors.rng import decision_rng, key_fraction

PUBLIC = {
    "CAPS", "COUNT_KEYS", "DISCRIMINATOR_LABELS", "FAULT_TYPES", "INJECTORS",
    "BlastRadius", "Decision", "DelayFault", "Distribution", "DropFault", "DuplicateFault",
    "Emission", "Envelope", "ExponentialDelay", "Fault", "FaultFile", "FaultPlan",
    "FixedDelay", "Headers", "Injector", "InjectorError", "JsonCondition", "MatchSpec",
    "ProtectedTopicError", "ReorderFault", "SourceCoordinates", "SpecError", "SpikeDelay",
    "UniformDelay", "decision_rng", "error_path", "format_validation_error", "key_fraction",
    "load_fault_file", "parse_fault_document",
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
        for path in PACKAGE.glob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = {node.module.split(".")[0]}
                else:
                    continue
                assert not names & banned, f"{path.name} imports {names & banned}"


class TestRegistry:
    def test_one_entry_per_fault_type(self) -> None:
        """The registry names exactly the fault types, each under its own name."""
        assert set(INJECTORS) == set(injectors.FAULT_TYPES)
        assert all(entry.name == name for name, entry in INJECTORS.items())

    def test_only_the_holding_injectors_flush(self) -> None:
        """Reorder, outage and replay keep messages inside the plan; each can flush them."""
        holders = {name for name, entry in INJECTORS.items() if entry.flush is not None}
        assert holders == {"reorder", "outage", "replay"}
        counted = {name for name, entry in INJECTORS.items() if entry.held is not None}
        assert counted == holders


class TestRng:
    def test_decision_rng_is_pinned(self) -> None:
        """The derivation is stable across processes and releases: this value never changes."""
        assert decision_rng(42, "orders.nocode", 3, 1000).getrandbits(32) == PINNED_DRAW

    def test_decision_rng_depends_on_each_coordinate(self) -> None:
        """Changing seed, topic, partition or offset changes the stream."""
        base = decision_rng(1, "t", 0, 0).random()
        others = [
            decision_rng(2, "t", 0, 0),
            decision_rng(1, "u", 0, 0),
            decision_rng(1, "t", 1, 0),
            decision_rng(1, "t", 0, 1),
        ]
        assert all(rng.random() != base for rng in others)

    def test_decision_rng_returns_a_private_random(self) -> None:
        """Each call returns an independent `random.Random`, never the global one."""
        first = decision_rng(1, "t", 0, 0)
        assert isinstance(first, random.Random)
        assert first is not decision_rng(1, "t", 0, 0)

    def test_key_fraction_is_stable_and_in_range(self) -> None:
        """`key_fraction` is reproducible, within [0, 1) and tells null from empty keys."""
        values = [key_fraction(7, f"key-{i}".encode()) for i in range(500)]
        assert all(0.0 <= v < 1.0 for v in values)
        assert values == [key_fraction(7, f"key-{i}".encode()) for i in range(500)]
        assert key_fraction(7, None) != key_fraction(7, b"")
        assert 0.4 < sum(values) / len(values) < 0.6


# Computed once from the BLAKE2b derivation; a change here breaks replay of old runs.
PINNED_DRAW = 1513762468
