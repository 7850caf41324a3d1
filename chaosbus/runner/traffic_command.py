"""`run --traffic CMD`: the user's own traffic, started when injection begins.

A first run needs traffic during injection, and a piped run's user cannot see when that
is (issue 20: they guessed a delay). The runner starts CMD itself at the `inject` phase:

    inject begins ─► start(): `sh -c CMD`, stdout and stderr to the output file,
                     CHAOSBUS_RUN_ID and CHAOSBUS_SOURCE_TOPIC in its environment
    wind-down     ─► stop(): a command still running is sent SIGTERM (its process group),
                     then SIGKILL after `grace_s`; that is `stopped`, not a failure
    result()      ─► TrafficResult: command, output file, exit code, stopped or not

A command that exits non-zero (or cannot be started) is a fact of the run: the report
says so and the runner warns on stderr. It never changes the verdict's data: what the
source held is judged either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from pathlib import Path
from typing import IO

from chaosbus.report.model import TrafficResult

GRACE_S = 5.0


class TrafficCommand:
    def __init__(
        self, command: str, output: Path, *, env: dict[str, str], grace_s: float = GRACE_S
    ) -> None:
        self.command = command
        self.output = output
        self._env = env
        self._grace_s = grace_s
        self._process: asyncio.subprocess.Process | None = None
        self._file: IO[bytes] | None = None
        self._started_s: float | None = None
        self._stopped = False
        self._error: str | None = None

    async def start(self, started_s: float) -> None:
        """Start CMD now (`started_s`: since the run's start); never raises: a command that
        cannot start is a fact of the run (`result().error`)."""
        self._started_s = started_s
        try:
            self.output.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.output.open("wb")
            self._process = await asyncio.create_subprocess_shell(
                self.command,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=self._file,
                stderr=asyncio.subprocess.STDOUT,
                env={**os.environ, **self._env},
                start_new_session=True,  # its own process group: stop() reaches its children
            )
        except OSError as exc:
            self._error = exc.strerror or str(exc)

    async def wait(self) -> None:
        """Until the command has ended by itself (for a caller that has time to give it)."""
        if self._process is not None:
            await self._process.wait()

    async def stop(self) -> None:
        """Let a command that has finished be; stop one still running."""
        process = self._process
        if process is not None and process.returncode is None:
            self._stopped = True
            _signal_group(process.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), self._grace_s)
            except TimeoutError:
                _signal_group(process.pid, signal.SIGKILL)
                await process.wait()
        if self._file is not None:
            self._file.close()
            self._file = None

    def result(self) -> TrafficResult | None:
        """How it ended; None when it was never started (the run stopped before injection)."""
        if self._started_s is None:
            return None
        process = self._process
        return TrafficResult(
            command=self.command,
            output=str(self.output),
            started_s=round(self._started_s, 3),
            exit_code=None if process is None else process.returncode,
            stopped=self._stopped,
            error=self._error,
        )


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # it ended between the check and the signal
        os.killpg(pid, sig)
