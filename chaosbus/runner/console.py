"""The terminal side of `chaosbus run`: a line per phase on stdout, a verdict table at the end.

Each phase is a line on stdout as it begins, on a terminal and in a pipe alike (flushed, so
a script driving its traffic by the `inject` line sees it at once); on a terminal a status
line below is updated in place. stderr is left to what the user must act on: a refusal, a
warning, the report paths. A refused run is then one line on stderr, whatever it printed
on stdout before (issue 20).
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


def _print_line(console: Console, line: Text | str) -> None:
    console.print(line)
    console.file.flush()  # a pipe is block-buffered: a reader waits on this line


@contextmanager
def live_progress(console: Console) -> Iterator[Callable[[Progress], None]]:
    """Yields the runner's `on_progress`: a line per phase as it begins, and on a terminal a
    status line below it updated in place (off one, rich's live display would print its last
    state at the end without a newline, gluing the next line to it)."""
    phases = [FIRST_PHASE]
    if not console.is_terminal:
        _print_line(console, FIRST_PHASE)

        def log_phase(progress: Progress) -> None:
            if progress.phase != phases[-1]:
                phases.append(progress.phase)
                _print_line(console, progress_text(progress))

        yield log_phase
        return
    console.print(FIRST_PHASE)
    with Live(Text(FIRST_PHASE), console=console, refresh_per_second=4, transient=True) as live:

        def show(progress: Progress) -> None:
            if progress.phase != phases[-1]:
                phases.append(progress.phase)
                live.console.print(progress_text(progress))  # printed above the status line
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
    title = (
        f"{report.name}: {row.badge} — {row.wording} (exit {row.exit_code})\n"
        f"run {report.run_id}, started {report.started_at}, {report.duration_s:.1f} s"
        + (", judged after the fact" if report.after_the_fact else "")
    )
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
        # Faults never decided are left out: the run counts every declared type, its ledger
        # (what `check` reads) only the decisions made, and both tables must read the same.
        f"faults: {', '.join(f'{k} {v}' for k, v in report.faults.items() if v) or 'none'}"
        + "".join(f", suppressed by {k} {v}" for k, v in report.faults_suppressed.items() if v)
        + (f", re-delivered after a restart {report.redelivered}" if report.redelivered else "")
        + (f"\n{report.reason}" if report.reason else "")
    )
    return table
