"""`chaosbus suite DIR_OR_LIBRARY [--tier T]`: experiments in turn, one result (chaosbus.suite)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import typer
from rich.console import Console
from rich.table import Table

from chaosbus.commands.options import (
    Actor,
    BaselineChoice,
    BaselineMatch,
    Bootstrap,
    FailOnRegression,
    History,
    Junit,
    KafkaConfig,
    KeyPrefix,
    Labels,
    NoHistory,
    ReportsDir,
    RunRedis,
    ShareRoute,
    Tolerance,
)
from chaosbus.commands.recording import program_of, say
from chaosbus.commands.shell import one_line_errors
from chaosbus.control.approvals import content_sha256
from chaosbus.control.audit import default_actor
from chaosbus.history.program import append_step_summary
from chaosbus.history.tables import badge
from chaosbus.logs import console_logging
from chaosbus.report.junit import write_junit
from chaosbus.runner.console import live_progress, wide
from chaosbus.runner.progress import Progress
from chaosbus.runner.run import RunOptions
from chaosbus.settings import resolve_kafka, resolve_redis
from chaosbus.signals import stop_on_signals
from chaosbus.suite import Member, SuiteResult, discover, run_suite


@one_line_errors
def suite(
    where: str = typer.Argument(help="A directory of experiment files, or `library`."),
    tier: Literal["smoke", "standard", "deep"] | None = typer.Option(
        None, "--tier", help="Only experiments of this tier (none declared: standard)."
    ),
    out: ReportsDir = Path("suite-out"),
    junit: Junit = None,
    bootstrap: Bootstrap = None,
    kafka_config: KafkaConfig = None,
    redis: RunRedis = None,
    actor: Actor = None,
    key_prefix: KeyPrefix = "",
    share_route: ShareRoute = False,
    label: Labels = None,
    history: History = None,
    no_history: NoHistory = False,
    baseline: BaselineChoice = None,
    baseline_match: BaselineMatch = None,
    fail_on_regression: FailOnRegression = False,
    tolerance: Tolerance = "10%",
) -> None:
    """Run the experiments of a tier in turn, one history entry each: exit with the worst
    run's code (3 aborted, 2 error, 4 inconclusive, 1 violated, 5 regression, 0 held).
    Ctrl-C stops the current run as `run` does and reports what completed."""
    program = program_of(
        history=history,
        no_history=no_history,
        labels=label,
        origin="suite",
        baseline=baseline,
        match=baseline_match,
        fail_on_regression=fail_on_regression,
        tolerance=tolerance,
    )
    members = discover(where, tier)  # every file read before anything starts
    kafka, redis_url = resolve_kafka(bootstrap, kafka_config), resolve_redis(redis)
    who = actor or default_actor()
    progress: list[Callable[[Progress], None]] = []

    def options_for(member: Member) -> RunOptions:
        return RunOptions(
            kafka=kafka,
            redis_url=redis_url,
            actor=who,
            key_prefix=key_prefix,
            content_sha256=content_sha256(member.text.encode("utf-8")),
            label=member.origin,
            share_route=share_route,
            on_progress=progress[0] if progress else None,
        )

    async def body() -> SuiteResult:
        interrupt = asyncio.Event()
        with (
            console_logging(),
            stop_on_signals(interrupt),
            live_progress(wide(Console())) as show,
        ):
            progress.append(show)
            return await run_suite(
                members, program, options_for, interrupt=interrupt, reports=out, say=say
            )

    result = asyncio.run(body())
    wide(Console()).print(summary_table(result))
    if junit is not None:
        say(f"junit: {write_junit([c.report for _, c in result.done], junit)}")
    if program.step_summary is not None:
        append_step_summary(program.step_summary, summary_markdown(result), say)
    if result.interrupted:
        say(f"suite {result.id}: interrupted; {len(result.not_run)} experiment(s) not run")
    raise typer.Exit(result.exit_code)


def summary_table(result: SuiteResult) -> Table:
    table = Table(title=f"suite {result.id}: exit {result.exit_code}", title_justify="left")
    for column in ("experiment", "tier", "status", "exit", "anomalies", "baseline", "history"):
        table.add_column(column)
    for member, done in result.done:
        comparison = done.report.baseline
        table.add_row(
            member.spec.name,
            member.tier,
            badge(done.report.status),
            str(done.exit_code),
            ", ".join(f"{k} {v}" for k, v in done.report.anomalies.counts.items() if v) or "0",
            "-" if comparison is None else ("REGRESSION" if comparison.regressed else "ok"),
            done.report.run_id if done.recorded else "-",
        )
    for member in result.not_run:
        table.add_row(member.spec.name, member.tier, "not run", "-", "-", "-", "-")
    return table


def summary_markdown(result: SuiteResult) -> str:
    lines = [
        f"## chaosbus suite {result.id}: exit {result.exit_code}",
        "",
        "| experiment | status | exit |",
        "| --- | --- | --- |",
    ]
    lines += [
        f"| {m.spec.name} | {d.report.status_row.badge} | {d.exit_code} |" for m, d in result.done
    ]
    lines += [f"| {m.spec.name} | not run | - |" for m in result.not_run]
    return "\n".join(lines) + "\n"
