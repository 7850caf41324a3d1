"""`run`'s phase lines: one per phase as it begins, on the console it is given (stdout)."""

from __future__ import annotations

import io
import re

from rich.console import Console

from chaosbus.runner.console import live_progress
from chaosbus.runner.progress import Progress


class _CountingFlushes(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.flushes = 0

    def flush(self) -> None:
        self.flushes += 1
        super().flush()


def _progress(phase: str) -> Progress:
    return Progress(phase, 1.5, 3, 0, 2, 10, 1.0)


class TestPhaseLines:
    def test_a_line_per_phase_off_a_terminal(self) -> None:
        """Piped: `preflight` at once, then one line per new phase; repeats add nothing."""
        out = _CountingFlushes()
        with live_progress(Console(file=out, width=140, force_terminal=False)) as show:
            for phase in ("preflight", "warmup", "warmup", "inject", "recover", "settle"):
                show(_progress(phase))
        firsts = [line.split()[0] for line in out.getvalue().splitlines()]
        assert firsts == ["preflight", "warmup", "inject", "recover", "settle"]

    def test_each_line_is_flushed(self) -> None:
        """A pipe is block-buffered: every phase line is flushed as it is printed, so a
        script waiting for `inject` sees it when injection begins."""
        out = _CountingFlushes()
        with live_progress(Console(file=out, width=140, force_terminal=False)) as show:
            assert out.flushes >= 1
            assert out.getvalue() == "preflight\n"
            before = out.flushes
            show(_progress("inject"))
            assert out.flushes > before
            assert out.getvalue().splitlines()[1].startswith("inject")

    def test_a_terminal_keeps_a_line_per_phase(self) -> None:
        """On a terminal each phase is a line of its own too, above the status line."""
        out = io.StringIO()
        console = Console(file=out, width=140, force_terminal=True, color_system=None)
        with live_progress(console) as show:
            for phase in ("warmup", "inject", "recover"):
                show(_progress(phase))
        # The status line is redrawn in place (carriage returns, erase-line escapes).
        plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue())
        lines = [line for line in re.split(r"[\r\n]", plain) if line.strip()]
        firsts = list(dict.fromkeys(line.split()[0] for line in lines))
        assert firsts == ["preflight", "warmup", "inject", "recover"], lines
