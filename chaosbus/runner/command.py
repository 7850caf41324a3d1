"""The async bodies of `chaosbus run` and `run --dry-run`, kept out of the CLI module."""

from __future__ import annotations

import asyncio

from rich.console import Console

from chaosbus.control.plane import control_plane
from chaosbus.experiment.spec import ExperimentSpec
from chaosbus.logs import LogFormat, console_logging
from chaosbus.report.model import RunReport
from chaosbus.runner.console import live_progress, phase_records, verdict_table, wide
from chaosbus.runner.preflight import count_targeting, preflight
from chaosbus.runner.run import RunOptions, probe_context, run_experiment
from chaosbus.signals import stop_on_signals


async def dry_run_lines(spec: ExperimentSpec, options: RunOptions) -> list[str]:
    """Connect, check topics, the kill switch and each probe, count what the targeting
    would match."""
    async with control_plane(options.redis_url, options.control_namespace) as plane:
        result = await preflight(
            spec,
            options.kafka,
            plane,
            content_sha256=options.content_sha256,
            label=options.label,
            share_route=options.share_route,
            probes=probe_context(options),
            now_ms=options.clock(),
            create_topics=options.create_topics,
        )
    if spec.routes:  # an HTTP-only experiment has no source topic to sample
        result.targeting = await count_targeting(spec, options.kafka)
    return [f"{spec.name}: preflight passed (nothing injected)", *result.lines()]


async def run_with_console(
    spec: ExperimentSpec, options: RunOptions, fmt: LogFormat = "text"
) -> RunReport:
    """Run with a line per phase and the verdict table on stdout; SIGINT aborts.
    Log records reach stderr by `chaosbus.logs`' rules: what the user must act on. With
    `json`, stderr has JSON lines only: the progress is a `phase` record per phase."""
    interrupt = asyncio.Event()
    progress = phase_records() if fmt == "json" else live_progress(wide(Console()))
    with (
        console_logging(fmt),
        stop_on_signals(interrupt),
        progress as show,
    ):
        options.on_progress = show
        report = await run_experiment(spec, options, interrupt)
    wide(Console()).print(verdict_table(report))
    return report
