"""The experiment runner: phases, guardrails, abort, verdict."""

from chaosbus.runner.preflight import PreflightResult, count_targeting, preflight
from chaosbus.runner.probes import Probe, RedisStateProbe
from chaosbus.runner.progress import Progress
from chaosbus.runner.run import ExperimentRun, RunOptions, run_experiment

__all__ = [
    "ExperimentRun",
    "PreflightResult",
    "Probe",
    "Progress",
    "RedisStateProbe",
    "RunOptions",
    "count_targeting",
    "preflight",
    "run_experiment",
]
