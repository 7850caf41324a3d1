"""chaosbus inside a team's own pytest suite: the `chaosbus` fixture (entry point `pytest11`).

    async def test_payments_survive_a_duplicate_storm(chaosbus):
        report = await chaosbus.run(
            "duplicate-storm",                       # a file, a shipped scenario, or a dict
            source="orders.nocode", destination="orders",
            schedule={"warmup_s": 1, "inject_s": 3, "recover_s": 3},
            key_prefix="safe:",
        )
        chaosbus.assert_held(report)                 # fails with the anomalies and causes

A complete example against the demo's naive service: docs/pytest.md.

Off unless used: importing this module imports pytest only (chaosbus's runner is imported
when a test asks for the fixture); the fixture is not autouse and starts nothing by itself;
the addresses are the test's (`bootstrap=`, `redis=`) or chaosbus's own settings
(CHAOSBUS_BOOTSTRAP, CHAOSBUS_REDIS, the local stack). A run from a test is not recorded in
the history unless the test passes `history=`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from chaosbus.experiment.spec import ExperimentSpec
    from chaosbus.report.model import RunReport


class Chaosbus:
    """What the `chaosbus` fixture gives a test: run an experiment, judge its report."""

    def __init__(self, node_name: str) -> None:
        self.node_name = node_name

    def experiment(
        self, experiment: str | Path | Mapping[str, Any], **overrides: Any
    ) -> ExperimentSpec:
        """A file, a shipped scenario's name or a dict, with `with_overrides`' overrides
        (source, destination, schedule, group_id, settle_ms; any top-level field)."""
        from chaosbus.experiment import parse_experiment, with_overrides
        from chaosbus.scenarios import load_experiment_or_scenario

        if isinstance(experiment, Mapping):
            spec = parse_experiment(dict(experiment), origin=f"{self.node_name}: experiment")
        else:
            spec = load_experiment_or_scenario(str(experiment))
        return with_overrides(spec, **overrides) if overrides else spec

    async def run(
        self,
        experiment: str | Path | Mapping[str, Any],
        *,
        bootstrap: str | None = None,
        redis: str | None = None,
        key_prefix: str = "",
        control_namespace: str = "chaosbus",
        history: str | None = None,
        labels: Mapping[str, str] | None = None,
        **overrides: Any,
    ) -> RunReport:
        """Run the experiment to its verdict and return the report (never raises on one)."""
        from chaosbus.history.program import Program, conclude
        from chaosbus.history.recorder import FactsKept
        from chaosbus.runner import RunOptions, run_experiment
        from chaosbus.settings import resolve_history, resolve_kafka, resolve_redis

        spec = self.experiment(experiment, **overrides)
        kept = FactsKept()
        options = RunOptions(
            kafka=resolve_kafka(bootstrap),
            redis_url=resolve_redis(redis),
            actor=f"pytest {self.node_name}",
            key_prefix=key_prefix,
            control_namespace=control_namespace,
            on_facts=kept,
        )
        report = await run_experiment(spec, options)
        if history is not None:
            import yaml

            text = yaml.safe_dump(spec.model_dump(mode="json", by_alias=True, exclude_none=True))
            program = Program(history=resolve_history(history), labels=dict(labels or {}))
            conclude(program, report, kept.facts, text=text, baseline=None, say=_quiet)
        return report

    @staticmethod
    def assert_held(report: RunReport) -> None:
        """Pass when the hypothesis held; else fail with the verdict, the anomalies and the
        examples with their causes."""
        if report.status != "held":
            raise AssertionError(failure_message(report))


def _quiet(_: str) -> None:
    return None


def failure_message(report: RunReport) -> str:
    from chaosbus.report.junit import example_lines

    row = report.status_row
    lines = [f"{report.name}: {row.badge} (exit {row.exit_code}): {row.wording}"]
    if report.reason:
        lines.append(f"why: {report.reason}")
    found = {name: n for name, n in report.anomalies.counts.items() if n}
    if found:
        lines.append("anomalies: " + ", ".join(f"{name} {n}" for name, n in found.items()))
    lines += list(example_lines(report.anomalies.examples))
    lines.append(f"run {report.run_id}, seed {report.seed}")
    return "\n".join(lines)


@pytest.fixture
def chaosbus(request: pytest.FixtureRequest) -> Chaosbus:
    """Run a chaosbus experiment from this test: `await chaosbus.run(...)`, then
    `chaosbus.assert_held(report)`."""
    return Chaosbus(request.node.name)
