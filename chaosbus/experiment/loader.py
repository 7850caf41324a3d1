"""Read an experiment file: YAML with line numbers for syntax errors, then the spec.

The reading is `chaosbus.documents.load_document`, the one YAML loader; what is here is
what an experiment adds: its validation and its error type.

Every problem is one line naming where it is: ``line 7, column 3: …`` for YAML that does
not parse, ``faults[1].distribution.max_ms: must be ≥ min_ms (100)`` for a value the spec
rejects. Nothing is started for an invalid file; the CLI exits 2.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from pydantic import ValidationError

from chaosbus.documents import load_document, parse_document
from chaosbus.errors import InvalidInput
from chaosbus.experiment.spec import ExperimentSpec
from chaosbus.injectors.validation import ROOT, format_validation_error
from chaosbus.platforms.presets import PresetError, expand_document


class ExperimentInvalid(InvalidInput):
    """An experiment file that does not parse or validate; `.problems` has one line each."""

    def __init__(self, problems: Iterable[str], origin: str) -> None:
        self.problems = list(problems)
        self.origin = origin
        count = len(self.problems)
        header = f"{origin}: {count} problem{'s' if count != 1 else ''} in experiment"
        super().__init__("\n  ".join([header, *self.problems]))


def parse_experiment(data: object, origin: str = "<experiment>") -> ExperimentSpec:
    """Validate an already-parsed document."""
    if not isinstance(data, dict):
        raise ExperimentInvalid([f"{ROOT}: expected a mapping with name, hypothesis, …"], origin)
    try:
        data = expand_document(data)  # `{preset: …}` faults and `retry_policy: {platform: …}`
    except PresetError as exc:
        raise ExperimentInvalid(exc.problems, origin) from exc
    try:
        return ExperimentSpec.model_validate(data)
    except ValidationError as exc:
        raise ExperimentInvalid(
            format_validation_error(exc, data, model=ExperimentSpec), origin
        ) from exc


def parse_experiment_text(text: str, origin: str = "<experiment>") -> ExperimentSpec:
    return parse_document(text, origin, parse_experiment, ExperimentInvalid)


def load_experiment(path: str | os.PathLike[str]) -> ExperimentSpec:
    """Read and validate a YAML experiment file; every problem in `ExperimentInvalid`."""
    return load_document(path, parse_experiment, ExperimentInvalid)
