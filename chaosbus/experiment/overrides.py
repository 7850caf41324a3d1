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
    http_listen: str | None = None,
    http_upstream: str | None = None,
    **top_level: Any,
) -> ExperimentSpec:
    """A copy of a one-route experiment with the given parts replaced.

    `http_listen` (HOST:PORT) and `http_upstream` (a URL) re-aim an experiment's one HTTP
    route: where the automation calls, and the service behind it.
    """
    doc = spec.model_dump(mode="json", by_alias=True, exclude_none=True)
    if http_listen is not None or http_upstream is not None:
        if len(doc["http_routes"]) != 1:
            raise ValueError("http_listen/http_upstream overrides need one HTTP route")
        http_route = doc["http_routes"][0]
        if http_listen is not None:
            http_route["listen"] = http_listen
        if http_upstream is not None:
            http_route["upstream"] = http_upstream
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
