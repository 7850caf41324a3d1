"""What the command line says and does about an experiment's two sides (topics and HTTP)."""

from __future__ import annotations

from pathlib import Path

from chaosbus.errors import InvalidInput
from chaosbus.experiment.loader import ExperimentInvalid
from chaosbus.experiment.overrides import with_overrides
from chaosbus.experiment.spec import ExperimentSpec

REQUEST_LOG_SUFFIX = ".requests.jsonl"


def describe_sides(spec: ExperimentSpec) -> str:
    """`2 faults` for a topic experiment; `2 HTTP faults on 1 HTTP route` added for HTTP."""
    parts = []
    if spec.routes:
        parts.append(f"{len(spec.faults)} faults")
    if spec.http_routes:
        http_faults = sum(len(r.faults) for r in spec.http_routes)
        count = len(spec.http_routes)
        parts.append(f"{http_faults} HTTP faults on {count} HTTP route{'s' if count != 1 else ''}")
    return ", ".join(parts)


def reaim_http(spec: ExperimentSpec, listen: str | None, upstream: str | None) -> ExperimentSpec:
    """The experiment with its one HTTP route moved (`--http-listen`, `--http-upstream`)."""
    if listen is None and upstream is None:
        return spec
    if len(spec.http_routes) != 1:
        raise InvalidInput(
            f"--http-listen/--http-upstream need an experiment with one HTTP route; "
            f"{spec.name!r} has {len(spec.http_routes)}"
        )
    try:
        return with_overrides(spec, http_listen=listen, http_upstream=upstream)
    except ExperimentInvalid as exc:
        # The paths name the file's fields; the flags are what the user typed.
        flags = {"listen": "--http-listen", "upstream": "--http-upstream"}
        problem = exc.problems[0]
        for field, flag in flags.items():
            problem = problem.replace(f"http_routes[0].{field}", flag)
        raise InvalidInput(problem) from exc


def request_log_beside(report: Path) -> Path:
    """`out/run.json` → `out/run.requests.jsonl`: the HTTP request log kept with the report."""
    stem = report.with_suffix("") if report.suffix == ".json" else report
    return Path(f"{stem}{REQUEST_LOG_SUFFIX}")
