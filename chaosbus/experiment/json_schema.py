"""The JSON Schema of experiment files, from the pydantic models that validate them.

`chaosbus schema` prints it; `chaosbus init` writes it beside the starter as `SCHEMA_FILE`
and puts the modeline YAML language servers read (`# yaml-language-server: $schema=…`) on
the starter's first line, so editors complete and check fields as people type. A file
beside the experiment rather than a URL: the schema is the installed version's, it works
offline, and `init --force` (or `chaosbus schema > FILE`) refreshes it after an upgrade.

Descriptions and examples come from the models' own `Field(description=…, examples=…)`,
so the schema, the validation and the "allowed:" list of an unknown-field error cannot
disagree. The schema is a guide for editors: the spec's cross-field rules (a route that
forms a cycle, a probe that does not fit its model) are checked by `chaosbus validate`.
"""

from __future__ import annotations

import json
from typing import Any

from chaosbus.experiment.spec import ExperimentSpec

SCHEMA_FILE = "chaosbus-experiment.schema.json"
DIALECT = "https://json-schema.org/draft/2020-12/schema"


def experiment_schema() -> dict[str, Any]:
    """The schema of an experiment file, as files write it (aliases, not field names)."""
    schema = ExperimentSpec.model_json_schema(by_alias=True, mode="validation")
    schema["title"] = "chaosbus experiment"
    schema["description"] = (
        "A chaosbus experiment: a hypothesis, the faults that test it and the checks that "
        "judge it. `chaosbus validate FILE` checks everything this schema cannot."
    )
    return {"$schema": DIALECT, **schema}


def schema_text() -> str:
    return json.dumps(experiment_schema(), indent=2, ensure_ascii=False) + "\n"


def modeline(schema: str) -> str:
    """The first line YAML language servers read to find the schema of a file."""
    return f"# yaml-language-server: $schema={schema}"
