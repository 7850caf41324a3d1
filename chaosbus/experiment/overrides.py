"""Re-aim a validated experiment at other topics or a shorter schedule, and validate again.

Tests and the demo run the library's files against their own topics; going through the
document (rather than copying frozen models) keeps every cross-field check in force.
"""

from __future__ import annotations

from typing import Any

from chaosbus.experiment.loader import parse_experiment
from chaosbus.experiment.spec import ExperimentSpec


def with_overrides(
    spec: ExperimentSpec,
    *,
    source: str | None = None,
    destination: str | None = None,
    schedule: dict[str, Any] | None = None,
    group_id: str | None = None,
    settle_ms: int | None = None,
    **top_level: Any,
) -> ExperimentSpec:
    """A copy of a one-route experiment with the given parts replaced."""
    doc = spec.model_dump(mode="json", by_alias=True, exclude_none=True)
    if source is not None or destination is not None:
        if len(doc["routes"]) != 1:
            raise ValueError("source/destination overrides need a one-route experiment")
        route = doc["routes"][0]
        if source is not None:
            route["from"] = doc["monitor"]["source_topic"] = source
        if destination is not None:
            route["to"] = destination
    if schedule is not None:
        doc["schedule"] = schedule
    if group_id is not None:
        doc["group_id"] = group_id
    if settle_ms is not None:
        doc["monitor"]["settle_ms"] = settle_ms
    doc.update(top_level)
    return parse_experiment(doc, origin=f"{spec.name} (overridden)")
