"""The fault schema: what validates, and how each problem names its path."""

from __future__ import annotations

import pathlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from chaosbus.documents import load_fault_file
from chaosbus.injectors.errors import SpecError
from chaosbus.injectors.spec import (
    DelayFault,
    DropFault,
    DuplicateFault,
    FaultFile,
    MatchSpec,
    ReorderFault,
    UniformDelay,
    parse_fault_document,
)
from chaosbus.injectors.validation import error_path, format_validation_error

EXAMPLE = """\
seed: 42
blast_radius:
  max_faults: 500
  max_key_share: 0.2
  protected_topics: ["payments.*"]
faults:
  - name: dup-paid
    type: duplicate
    probability: 0.05
    copies: 2
    spread_ms: 250
    match:
      topic: "orders.*"
      key: "customer-*"
      headers: {source: n8n}
      json: {status: {equals: paid}, "customer.vip": {exists: true}}
  - type: reorder
    probability: 0.1
    window: 5
    within_ms: 2000
  - type: delay
    probability: 0.1
    distribution: {kind: spike, base_ms: 20, spike_ms: 5000, spike_probability: 0.01}
    preserve_order: false
  - type: drop
    probability: 0.01
    burst: 3
"""


def problems(data: object) -> list[str]:
    with pytest.raises(SpecError) as caught:
        parse_fault_document(data, "test.yaml")
    return caught.value.problems


def one_fault(**fields: Any) -> dict[str, Any]:
    return {"faults": [fields]}


class TestValidDocuments:
    def test_example_file_loads(self, tmp_path: pathlib.Path) -> None:
        """The documented example parses into the four fault types with their parameters."""
        path = tmp_path / "faults.yaml"
        path.write_text(EXAMPLE, encoding="utf-8")
        loaded = load_fault_file(path)
        assert loaded.seed == 42
        assert [f.type for f in loaded.faults] == ["duplicate", "reorder", "delay", "drop"]
        dup = loaded.faults[0]
        assert isinstance(dup, DuplicateFault)
        assert dup.copies == 2
        assert dup.match is not None
        assert dup.match.json_conditions is not None
        assert set(dup.match.json_conditions) == {"status", "customer.vip"}
        assert loaded.blast_radius.protected_topics == ("payments.*",)

    def test_defaults(self) -> None:
        """Omitted parameters take the documented defaults."""
        assert DuplicateFault(probability=1).copies == 1
        assert DuplicateFault(probability=1).spread_ms == 0
        assert ReorderFault(probability=1).window == 10
        assert ReorderFault(probability=1).within_ms is None
        assert DropFault(probability=1).burst == 1
        delay = DelayFault(probability=1, distribution=UniformDelay(min_ms=1, max_ms=2))
        assert delay.preserve_order is True
        assert FaultFile(faults=()).blast_radius.max_faults is None

    def test_models_are_frozen(self) -> None:
        """A parsed fault cannot be mutated behind the plan's back."""
        fault = DropFault(probability=0.5)
        with pytest.raises(ValidationError):
            fault.probability = 1.0  # type: ignore[misc]

    def test_equals_null_is_a_condition(self) -> None:
        """`equals: null` is a real condition, distinct from giving no condition at all."""
        spec = MatchSpec.model_validate({"json": {"a": {"equals": None}}})
        assert spec.json_conditions is not None
        assert "equals" in spec.json_conditions["a"].model_fields_set


class TestProblemPaths:
    def test_unknown_fault_type(self) -> None:
        """An unknown `type` names the path and lists the known types."""
        assert problems(one_fault(type="explode", probability=1)) == [
            "faults[0].type: unknown fault type 'explode' (known: corrupt, delay, drop, "
            "duplicate, outage, reorder, replay, schema_drift, stall)"
        ]

    def test_missing_fault_type(self) -> None:
        """A fault without `type` says the type is required."""
        assert problems(one_fault(probability=1)) == ["faults[0].type: required"]

    def test_uniform_max_below_min(self) -> None:
        """`max_ms < min_ms` is reported on max_ms, after the union tags are dropped."""
        data = {
            "faults": [
                {"type": "drop", "probability": 1},
                {
                    "type": "delay",
                    "probability": 1,
                    "distribution": {"kind": "uniform", "min_ms": 50, "max_ms": 10},
                },
            ]
        }
        (line,) = problems(data)
        assert line.startswith("faults[1].distribution.max_ms: must be ≥ min_ms")

    def test_unknown_distribution_kind(self) -> None:
        """An unknown distribution kind names the kind path and the known kinds."""
        data = one_fault(type="delay", probability=1, distribution={"kind": "gauss"})
        assert problems(data) == [
            "faults[0].distribution.kind: unknown distribution kind 'gauss' "
            "(known: exponential, fixed, spike, uniform)"
        ]

    def test_every_problem_is_reported(self) -> None:
        """All problems come back at once, one line each, not just the first."""
        data = {
            "faults": [{"type": "duplicate", "probability": 1.5, "copies": 0, "colour": "red"}],
            "blast_radius": {"max_key_share": 0},
            "seed": "x",
        }
        lines = problems(data)
        assert len(lines) == 5
        assert any(line.startswith("faults[0].probability: ") for line in lines)
        assert any(line.startswith("faults[0].copies: ") for line in lines)
        assert (
            "faults[0].colour: unknown field "
            "(allowed: name, probability, trigger, type, match, copies, spread_ms)"
        ) in lines
        assert any(line.startswith("blast_radius.max_key_share: ") for line in lines)
        assert any(line.startswith("seed: ") for line in lines)

    def test_json_path_with_dots_is_quoted(self) -> None:
        """A JSON condition key containing dots is shown quoted, not split into segments."""
        data = one_fault(type="drop", probability=1, match={"json": {"a.b": {}}})
        assert problems(data) == [
            'faults[0].match.json["a.b"]: needs exactly one of equals, exists'
        ]

    def test_both_equals_and_exists_rejected(self) -> None:
        """A JSON condition with both equals and exists is ambiguous and refused."""
        data = one_fault(
            type="drop", probability=1, match={"json": {"a": {"equals": 1, "exists": True}}}
        )
        assert problems(data) == ["faults[0].match.json.a: needs exactly one of equals, exists"]

    def test_duplicate_fault_names(self) -> None:
        """Two faults may not share a name: decisions name the fault that took them."""
        data = {"faults": [{"type": "drop", "probability": 1, "name": "x"}] * 2}
        assert problems(data) == ["faults: fault name 'x' used by faults[0] and faults[1]"]

    def test_bool_is_not_a_probability(self) -> None:
        """`probability: true` is a mistake, not 1.0."""
        assert problems(one_fault(type="drop", probability=True))[0].startswith(
            "faults[0].probability: "
        )

    @pytest.mark.parametrize("data", [None, 3, "faults", []])
    def test_document_must_be_a_mapping(self, data: object) -> None:
        """A document that is not a mapping is named as a whole, not crashed on."""
        (line,) = problems(data)
        assert line.startswith("(document): ")

    def test_error_carries_origin(self) -> None:
        """The error message names the file, and lists each problem on its own line."""
        with pytest.raises(SpecError, match=r"^test\.yaml: 1 problem") as caught:
            parse_fault_document({}, "test.yaml")
        assert caught.value.origin == "test.yaml"
        assert str(caught.value).splitlines()[1].strip() == "faults: required"


class TestYamlLoading:
    def test_syntax_error_names_line(self, tmp_path: pathlib.Path) -> None:
        """A YAML syntax error reports its line and column."""
        path = tmp_path / "bad.yaml"
        path.write_text("faults:\n  - type: drop\n    probability: [1\n", encoding="utf-8")
        with pytest.raises(SpecError) as caught:
            load_fault_file(path)
        (line,) = caught.value.problems
        assert line.startswith("line 4, column 1: ")

    def test_duplicate_key_is_an_error(self, tmp_path: pathlib.Path) -> None:
        """A key given twice is refused with its line, instead of the last one winning."""
        path = tmp_path / "dup.yaml"
        path.write_text(
            "faults:\n  - type: drop\n    probability: 0.1\n    probability: 1\n",
            encoding="utf-8",
        )
        with pytest.raises(SpecError) as caught:
            load_fault_file(path)
        assert caught.value.problems == ["line 4, column 5: duplicate key 'probability'"]

    def test_missing_file(self, tmp_path: pathlib.Path) -> None:
        """An unreadable file is a SpecError naming the path, not an OSError."""
        with pytest.raises(SpecError) as caught:
            load_fault_file(tmp_path / "absent.yaml")
        assert caught.value.origin == str(tmp_path / "absent.yaml")
        assert "cannot read" in caught.value.problems[0]

    def test_empty_file(self, tmp_path: pathlib.Path) -> None:
        """An empty file says what was expected."""
        path = tmp_path / "empty.yaml"
        path.write_text("", encoding="utf-8")
        with pytest.raises(SpecError, match="expected a mapping"):
            load_fault_file(path)


class TestErrorPathHelper:
    def test_drops_tags_and_indexes_lists(self) -> None:
        """Locations become `a[0].b` with discriminator tags removed."""
        data = {"faults": [{"type": "delay", "distribution": {"kind": "uniform"}}]}
        loc = ("faults", 0, "delay", "distribution", "uniform", "max_ms")
        assert error_path(loc, data) == "faults[0].distribution.max_ms"

    def test_root(self) -> None:
        """An empty location names the whole document."""
        assert error_path((), {}) == "(document)"

    def test_reusable_on_other_models(self) -> None:
        """The formatter works on any pydantic model, e.g. a spec embedding faults."""
        with pytest.raises(ValidationError) as caught:
            FaultFile.model_validate({"faults": [{"type": "drop", "probability": -1}]})
        lines = format_validation_error(caught.value, {"faults": [{"type": "drop"}]})
        assert lines[0].startswith("faults[0].probability: ")

    @given(st.floats(min_value=0, max_value=1, allow_nan=False))
    def test_any_probability_in_range_is_valid(self, probability: float) -> None:
        """Every probability in [0, 1], both ends included, validates."""
        assert DropFault(probability=probability).probability == probability
