"""The demo on a terminal: progress lines on stderr, then one side-by-side verdict table.

Progress goes through a rich console on stderr so that stdout carries only the verdict
table and the report paths, and a pipe (`chaosbus demo | tee`) keeps the useful part.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from chaosbus.monitors.anomalies import UNRECOVERED, Shown
from chaosbus.report.model import RunReport
from chaosbus.runner.console import progress_text, wide
from chaosbus.runner.progress import Progress
from chaosbus_demo.expectations import Verdict


class DemoDisplay:
    """Timestamped steps, and a live line per experiment fed by the runner's progress."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or wide(Console(stderr=True))
        self._started = time.monotonic()

    def say(self, text: str) -> None:
        # Also called from worker threads (stack and Node-RED start-up): rich serialises.
        elapsed = time.monotonic() - self._started
        self.console.print(Text.assemble((f"{elapsed:6.1f} s ", "dim"), text))

    @contextmanager
    def experiment(self, name: str, service: str) -> Iterator[Callable[[Progress], None]]:
        """A live status line on a terminal; elsewhere (CI logs) a line per phase."""
        label = Text.assemble((f"{name} ", "bold"), (f"[{service}] ", "dim"))
        if not self.console.is_terminal:
            phases: list[str] = []

            def log_phase(progress: Progress) -> None:
                if not phases or phases[-1] != progress.phase:
                    phases.append(progress.phase)
                    self.console.print(label + progress_text(progress))

            yield log_phase
            return
        with Live(label + Text("preflight"), console=self.console, refresh_per_second=4) as live:

            def show(progress: Progress) -> None:
                live.update(label + progress_text(progress))

            yield show


def side_by_side(verdicts: Iterable[Verdict]) -> Table:
    """A row per experiment and service: verdict, anomalies, one example of each."""
    table = Table(title="chaosbus demo: verdicts", show_lines=True)
    table.add_column("experiment (faults injected)")
    table.add_column("service")
    table.add_column("verdict")
    table.add_column("anomalies")
    table.add_column("one example of each (unit: expected → observed)")
    for v in verdicts:
        report = v.report
        table.add_row(
            Text.assemble((v.experiment, "bold"), "\n", (faults(report), "dim")),
            f"ledger-{v.service}",
            Text(report.status_row.badge, style=report.status_row.console_style),
            anomaly_counts(report),
            examples(report),
        )
    return table


def anomaly_counts(report: RunReport) -> str:
    nonzero = {name: n for name, n in report.anomalies.counts.items() if n}
    return "\n".join(f"{name} {n}" for name, n in nonzero.items()) or "none"


def examples(report: RunReport) -> str:
    """The first example of each anomaly found; `unrecovered` repeats another's unit."""
    lines: list[str] = []
    for name, shown in report.anomalies.examples.items():
        if name == UNRECOVERED or not shown or not report.anomalies.counts.get(name):
            continue
        first = shown[0]
        lines.append(f"{name}: {first.unit}: {_value(first.expected)} → {_value(first.observed)}")
    return "\n".join(lines) or (report.reason or "—")


def _value(shown: Shown) -> str:
    """Sums come back as floats; 72099.0 cents reads better as 72099."""
    if isinstance(shown, float) and shown.is_integer():
        return str(int(shown))
    return "—" if shown is None else str(shown)


def faults(report: RunReport) -> str:
    injected = {kind: n for kind, n in report.faults.items() if kind != "pass" and n}
    return ", ".join(f"{kind} {n}" for kind, n in injected.items()) or "no fault"
