"""The experiment file: pydantic models, the metric vocabulary and the loader."""

from chaosbus.experiment.bounds import Bound, Guardrail
from chaosbus.experiment.loader import (
    ExperimentInvalid,
    load_experiment,
    parse_experiment,
    parse_experiment_text,
)
from chaosbus.experiment.metrics import LIVE_METRICS, METRICS
from chaosbus.experiment.monitor import CheckSpec, MonitorSpec, ProbeConfig
from chaosbus.experiment.overrides import with_overrides
from chaosbus.experiment.spec import ExperimentSpec, Ramp, RouteSpec, Schedule

__all__ = [
    "LIVE_METRICS",
    "METRICS",
    "Bound",
    "CheckSpec",
    "ExperimentInvalid",
    "ExperimentSpec",
    "Guardrail",
    "MonitorSpec",
    "ProbeConfig",
    "Ramp",
    "RouteSpec",
    "Schedule",
    "load_experiment",
    "parse_experiment",
    "parse_experiment_text",
    "with_overrides",
]
