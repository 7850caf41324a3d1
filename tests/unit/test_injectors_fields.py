"""Unknown fields: every file's error lists what is allowed there and suggests a close name."""

from __future__ import annotations

from typing import Any

import pytest

from chaosbus.experiment.loader import ExperimentInvalid, parse_experiment
from chaosbus.experiment.spec import ExperimentSpec
from chaosbus.injectors.fields import allowed_fields, unknown_field
from chaosbus.injectors.spec import SpecError, parse_fault_document
from chaosbus.scenarios import load_experiment_or_scenario


def scenario() -> dict[str, Any]:
    return load_experiment_or_scenario("duplicate-storm").model_dump(mode="json", by_alias=True)


def problems(doc: dict[str, Any]) -> list[str]:
    with pytest.raises(ExperimentInvalid) as caught:
        parse_experiment(doc, "x.yaml")
    return caught.value.problems


HTTP_FIELDS = "kind, url, json, absent_statuses, timeout_s, concurrency"


class TestAllowedFields:
    def test_root(self) -> None:
        """At the root, the experiment's own fields, as a file writes them."""
        found = allowed_fields(ExperimentSpec, ())
        assert found[:3] == ("name", "hypothesis", "description")
        assert "blast_radius" in found

    def test_through_a_tagged_union(self) -> None:
        """A probe's tag (`http`) picks the kind whose fields are listed."""
        loc = ("monitor", "checks", 0, "probe", "http")
        assert ", ".join(allowed_fields(ExperimentSpec, loc)) == HTTP_FIELDS

    def test_through_a_fault_type(self) -> None:
        """A fault's `type` tag picks that fault's parameters."""
        found = allowed_fields(ExperimentSpec, ("faults", 0, "duplicate"))
        assert "copies" in found
        assert "window" not in found

    def test_aliases_are_what_files_write(self) -> None:
        """A field declared under an alias (`json`) is listed by the alias."""
        loc = ("monitor", "checks", 0, "extract", "amount")
        assert allowed_fields(ExperimentSpec, loc) == ("json",)

    def test_a_location_that_leads_nowhere(self) -> None:
        """No model at the location: nothing listed, and the message stays short."""
        assert allowed_fields(ExperimentSpec, ("name", "x")) == ()
        assert unknown_field("x", ()) == "unknown field"


class TestMessages:
    def test_misspelling_is_suggested(self) -> None:
        """`setle_ms` is one letter from `settle_ms`: the line suggests it."""
        doc = scenario()
        doc["monitor"]["setle_ms"] = doc["monitor"].pop("settle_ms")
        (line,) = problems(doc)
        assert line.startswith("monitor.setle_ms: unknown field; did you mean 'settle_ms'? ")
        assert "(allowed: source_topic, checks, settle_ms," in line

    def test_redis_shape_on_an_http_probe(self) -> None:
        """Issue 20: a Redis probe's `field` on an http probe names the http fields."""
        doc = scenario()
        doc["monitor"]["checks"][1]["probe"] = {
            "kind": "http",
            "url": "http://127.0.0.1:8080/totals/{entity}",
            "field": "paid",
        }
        assert problems(doc) == [
            "monitor.checks[1].probe.json: required",
            f"monitor.checks[1].probe.field: unknown field (allowed: {HTTP_FIELDS})",
        ]

    def test_where_tried_as_filter(self) -> None:
        """The names issue 20's user tried list `where` among the allowed ones."""
        doc = scenario()
        doc["monitor"]["checks"][1]["filter"] = {"path": "$.type", "equals": "paid"}
        assert problems(doc) == [
            "monitor.checks[1].filter: unknown field (allowed: name, model, extract, where, probe)"
        ]

    def test_a_plain_union_says_one_thing(self) -> None:
        """`where` is a condition or a list: a typo inside the mapping is one line, not
        also "not a valid tuple" from the list member."""
        doc = scenario()
        doc["monitor"]["checks"][1]["where"] = {"path": "$.type", "equal": "paid"}
        assert problems(doc) == [
            "monitor.checks[1].where.equal: unknown field; did you mean 'equals'? "
            "(allowed: equals, exists, path)"
        ]

    def test_fault_files_too(self) -> None:
        """A fault file for `chaosbus proxy --fault` uses the same one place."""
        with pytest.raises(SpecError) as caught:
            parse_fault_document(
                {"faults": [{"type": "duplicate", "probability": 0.1, "copy": 2}]}, "f.yaml"
            )
        assert caught.value.problems == [
            "faults[0].copy: unknown field; did you mean 'copies'? "
            "(allowed: name, probability, trigger, type, match, copies, spread_ms)"
        ]
