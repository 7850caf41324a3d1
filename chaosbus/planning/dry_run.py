"""Read a recent window of each route's source and predict what the experiment would do.

Read-only: the window is read by `traffic.recorder.read_window` (partitions assigned to a
consumer without a group, seeks by time, never a commit), bounded by `max_messages`, the
recorder's byte bound and `timeout_s`; nothing is written anywhere.
"""

from __future__ import annotations

from pathlib import Path

from chaosbus.clients.connection import KafkaSettings
from chaosbus.clients.errors import BrokerUnreachable
from chaosbus.errors import Unreachable
from chaosbus.experiment.spec import ExperimentSpec
from chaosbus.monitors.extractors import Extractor, compile_extractors
from chaosbus.planning.predict import predict_route
from chaosbus.planning.summary import PlanSummary
from chaosbus.runner.preflight import routes_of
from chaosbus.traffic.recorder import RecordOptions, read_window

DEFAULT_WINDOW_S = 600.0
DEFAULT_MAX_MESSAGES = 100_000
DEFAULT_TIMEOUT_S = 30.0

RAMP_NOTE = (
    "the run ramps its intensity up ({steps} steps): fewer faults than predicted early on "
    "(predicted at full intensity)"
)


def extractors_for(spec: ExperimentSpec, source: str) -> dict[str, Extractor]:
    """Each check's extractors, for the route the monitor reads (its entities)."""
    if source != spec.monitor.source_topic:
        return {}
    return {
        check.name: compile_extractors(check.extract, check.where) for check in spec.monitor.checks
    }


async def dry_run(
    spec: ExperimentSpec,
    kafka: KafkaSettings,
    *,
    window_s: float | None = DEFAULT_WINDOW_S,
    max_messages: int = DEFAULT_MAX_MESSAGES,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> PlanSummary:
    routes = []
    for route in routes_of(spec):
        options = RecordOptions(
            topic=route.source,
            out=Path("-"),  # read into memory: nothing is written
            window_s=window_s,
            max_count=max_messages,
            timeout_s=timeout_s,
        )
        try:
            window = await read_window(kafka, options)
        except BrokerUnreachable as exc:
            raise Unreachable(str(exc)) from exc
        routes.append(
            predict_route(
                route,
                window.records,
                faults=spec.faults,
                blast_radius=spec.blast_radius,
                seed=spec.seed,
                extractors=extractors_for(spec, route.source),
                ended_by=window.end.ended_by,
            )
        )
    ramp = spec.schedule.ramp
    return PlanSummary(
        experiment=spec.name,
        seed=spec.seed,
        window_s=window_s,
        max_messages=max_messages,
        routes=tuple(routes),
        http_routes=tuple(r.name for r in spec.http_routes),
        intensity_note=RAMP_NOTE.format(steps=ramp.steps) if ramp else None,
    )
