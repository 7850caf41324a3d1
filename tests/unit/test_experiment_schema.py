"""The JSON Schema of experiment files: `chaosbus schema`, and the starter's modeline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from chaosbus.cli import app
from chaosbus.experiment.json_schema import SCHEMA_FILE, experiment_schema
from chaosbus.scenarios import load_experiment_or_scenario, scenario, scenario_names
from chaosbus.scenarios.starter import STARTER_PROBES

FILES = [name for name in scenario_names() if not name.endswith("-delivery")]


def validator() -> jsonschema.Draft202012Validator:
    schema = experiment_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


class TestSchema:
    def test_the_command_prints_it(self) -> None:
        """`chaosbus schema` prints the schema as JSON, nothing else on stdout."""
        result = CliRunner().invoke(app, ["schema"])
        assert result.exit_code == 0
        assert json.loads(result.output) == experiment_schema()

    @pytest.mark.parametrize("name", FILES)
    def test_every_shipped_scenario_is_valid_under_it(self, name: str) -> None:
        """An editor checking against the schema accepts every file the library ships."""
        document = yaml.safe_load(scenario(name).text)
        errors = [e.message for e in validator().iter_errors(document)]
        assert errors == []

    def test_a_typo_is_flagged_by_the_editor_too(self) -> None:
        """The schema forbids unknown fields, as validation does."""
        document = yaml.safe_load(scenario("duplicate-storm").text)
        document["monitor"]["checks"][1]["filter"] = {"path": "$.type", "equals": "paid"}
        assert not validator().is_valid(document)

    def test_fields_carry_descriptions_and_examples(self) -> None:
        """Editors show what a field is for: the check's `where` and the HTTP probe's."""
        defs: dict[str, Any] = experiment_schema()["$defs"]
        assert (
            "Selects the source events" in defs["CheckSpec"]["properties"]["where"]["description"]
        )
        http = defs["HttpProbeConfig"]
        assert set(http["properties"]) == {
            "kind",
            "url",
            "json",
            "absent_statuses",
            "timeout_s",
            "concurrency",
        }
        assert all("description" in field for field in http["properties"].values())
        assert http["examples"][0]["kind"] == "http"


class TestInit:
    @pytest.mark.parametrize("probe", STARTER_PROBES)
    def test_each_probe_kind_has_a_valid_starter(self, probe: str, tmp_path: Path) -> None:
        """`init --probe KIND` writes a file validate and the schema accept, its probe of
        that kind, its first line the modeline naming the schema written beside it."""
        target = tmp_path / "exp.yaml"
        result = CliRunner().invoke(app, ["init", str(target), "--probe", probe])
        assert result.exit_code == 0, result.output
        text = target.read_text()
        assert text.splitlines()[0] == f"# yaml-language-server: $schema=./{SCHEMA_FILE}"
        spec = load_experiment_or_scenario(str(target))
        assert spec.monitor.checks[0].probe.kind == probe
        schema = json.loads((tmp_path / SCHEMA_FILE).read_text())
        assert schema == experiment_schema()
        assert list(jsonschema.Draft202012Validator(schema).iter_errors(yaml.safe_load(text))) == []

    def test_an_unknown_probe_kind_is_one_line(self, tmp_path: Path) -> None:
        """`--probe mongo` names the kinds there are; nothing is written."""
        result = CliRunner().invoke(app, ["init", str(tmp_path / "x.yaml"), "--probe", "mongo"])
        assert result.exit_code == 2
        assert "--probe 'mongo': expected one of redis, http, sql, kafka" in result.output
        assert list(tmp_path.iterdir()) == []
