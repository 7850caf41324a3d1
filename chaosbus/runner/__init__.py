"""The experiment runner: phases, guardrails, abort, verdict."""

from chaosbus.runner.preflight import PreflightResult, count_targeting, preflight
from chaosbus.runner.probes import Probe, redis_probe, state_probe
from chaosbus.runner.progress import Progress
from chaosbus.runner.run import ExperimentRun, RunOptions, run_experiment

__all__ = [
    "ExperimentRun",
    "PreflightResult",
    "Probe",
    "Progress",
    "RunOptions",
    "count_targeting",
    "preflight",
    "redis_probe",
    "run_experiment",
    "state_probe",
]
