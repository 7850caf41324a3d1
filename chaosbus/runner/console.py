"""The terminal side of `chaosbus run`: live progress on stderr, a verdict table at the end.

On a terminal the progress is one line updated in place; elsewhere (a pipe, a CI log) it
is a line per phase, as each begins. Either way a progress line has ended before anything
else is printed on stderr: a refusal, a warning, the report paths.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from chaosbus.report.model import RunReport
from chaosbus.runner.progress import Progress

# Off a terminal rich assumes 80 columns and folds the progress line; logs are wider.
LOG_WIDTH = 140
FIRST_PHASE = "preflight"

log = logging.getLogger("chaosbus.runner")


def wide(console: Console) -> Console:
    """`console` on a terminal; off one, the same file at `LOG_WIDTH` columns."""
    if console.is_terminal:
        return console
    return Console(file=console.file, width=LOG_WIDTH)


def progress_text(p: Progress) -> Text:
    # Failed reads show from the first one: each is said in a line only at the end, with
    # its count (runner.observation), so the line is where a failing probe shows at once.
    failures = ("", "") if not p.read_failures else (f"  read failures {p.read_failures}", "yellow")
    return Text.assemble(
        (f"{p.phase:<9}", "bold cyan"),
        f" {p.elapsed_s:6.1f} s  messages {p.forwarded:>7}  faults {p.faults:>6}",
        f"  intensity {p.intensity:4.2f}  held {p.held:>5}  ",
        ("anomalies ", ""),
        (str(p.anomalies), "bold red" if p.anomalies else "green"),
        failures,
    )


@contextmanager
def live_progress(console: Console) -> Iterator[Callable[[Progress], None]]:
    """Yields the runner's `on_progress`: a status line updated in place on a terminal, a
    line per phase elsewhere (rich's live display would print its last state there, at the
    end and without a newline, so the next line on stderr was glued to it)."""
    if not console.is_terminal:
        phases = [FIRST_PHASE]
        console.print(FIRST_PHASE)

        def log_phase(progress: Progress) -> None:
            if progress.phase != phases[-1]:
                phases.append(progress.phase)
                console.print(progress_text(progress))

        yield log_phase
        return
    with Live(Text(FIRST_PHASE), console=console, refresh_per_second=4, transient=False) as live:

        def show(progress: Progress) -> None:
            live.update(progress_text(progress))

        yield show


@contextmanager
def phase_records() -> Iterator[Callable[[Progress], None]]:
    """The progress for `--log-format json`: one `phase` record (logger `chaosbus.runner`)
    as each phase begins, with the counts so far."""
    phases = [FIRST_PHASE]

    def log_phase(progress: Progress) -> None:
        if progress.phase == phases[-1]:
            return
        phases.append(progress.phase)
        log.info(
            "phase %s",
            progress.phase,
            extra={
                "action": "phase",
                "phase": progress.phase,
                "elapsed_s": round(progress.elapsed_s, 3),
                "messages": progress.forwarded,
                "faults": progress.faults,
                "held": progress.held,
                "anomalies": progress.anomalies,
                "intensity": progress.intensity,
                "read_failures": progress.read_failures,
            },
        )

    yield log_phase


def verdict_table(report: RunReport) -> Table:
    row = report.status_row
    title = f"{report.name}: {row.badge} — {row.wording} (exit {row.exit_code})"
    table = Table(title=title, title_style=row.console_style)
    table.add_column("when")
    table.add_column("hypothesis")
    table.add_column("expected")
    table.add_column("observed", justify="right")
    table.add_column("held")
    for h in report.hypotheses:
        observed = "—" if h.observed is None else f"{h.observed:g}"
        held = {True: "[green]yes", False: "[red]no", None: "[yellow]unknown"}[h.held]
        table.add_row(h.phase, h.name, h.threshold, observed, held)
    nonzero = {k: v for k, v in report.anomalies.counts.items() if v}
    table.caption = (
        f"anomalies: {', '.join(f'{k} {v}' for k, v in nonzero.items()) or 'none'} · "
        f"faults: {', '.join(f'{k} {v}' for k, v in report.faults.items())}"
        + "".join(f", suppressed by {k} {v}" for k, v in report.faults_suppressed.items() if v)
        + (f", re-delivered after a restart {report.redelivered}" if report.redelivered else "")
        + (f"\n{report.reason}" if report.reason else "")
    )
    return table
