"""The body of `chaosbus demo`: run it until a signal, print the verdict table, say where.

Exit codes: 0 the demo showed what it should (naive violated, safe held), 1 it did not (the
reasons are printed), 2 invalid input or a missing prerequisite, 3 interrupted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace

from rich.console import Console

from chaosbus.history.program import Program, conclude
from chaosbus.logs import console_logging
from chaosbus.runner.console import wide
from chaosbus.signals import stop_on_signals
from chaosbus_demo.display import DemoDisplay, side_by_side
from chaosbus_demo.run import DemoOptions, DemoResult, run_demo


def demo_command(options: DemoOptions, program: Program | None = None) -> int:
    """Run the demo; with a `program`, each verdict is recorded in its history (`service`
    labelled ledger-naive or ledger-safe)."""
    display = DemoDisplay()
    # A Kafka client's routine complaints stay off the progress; JSON lines if asked.
    with console_logging(options.log_format):
        result = asyncio.run(_until_signal(options, display))
    stdout = wide(Console())
    if program is not None:
        remember(program, result, display.console.print)
    if result.verdicts:
        stdout.print(side_by_side(result.verdicts))
    for line in summary(result):
        stdout.print(line, highlight=False)
    err = display.console
    if result.interrupted:
        err.print("chaosbus demo: interrupted; everything it started is stopped", highlight=False)
    for problem in result.problems:
        err.print(f"chaosbus demo: not shown: {problem}", highlight=False)
    return result.exit_code


def remember(program: Program, result: DemoResult, say: Callable[[str], None]) -> None:
    """One history entry per verdict: the naive service's run, the safe service's check."""
    for verdict in result.verdicts:
        each = replace(program, labels={**program.labels, "service": f"ledger-{verdict.service}"})
        text = result.texts.get(verdict.experiment, "")
        conclude(each, verdict.report, verdict.facts, text=text, baseline=None, say=say)


async def _until_signal(options: DemoOptions, display: DemoDisplay) -> DemoResult:
    interrupt = asyncio.Event()
    with stop_on_signals(interrupt):
        return await run_demo(options, interrupt=interrupt, display=display)


def summary(result: DemoResult) -> list[str]:
    lines: list[str] = []
    if result.traffic is not None:
        t = result.traffic
        lines.append(f"traffic: {t.sent} order events through Node-RED, {t.failed} refused")
    pages = [str(path) for path in result.report_files if path.suffix == ".html"]
    if pages:
        lines.append(f"reports (JSON, Markdown, HTML with a timeline) in {result.out}/:")
        lines += [f"  {page}" for page in pages]
    if not result.problems and not result.interrupted:
        lines.append(
            "the naive service was caught (violated), the safe one held: "
            "the demo showed what it should"
        )
    return lines
