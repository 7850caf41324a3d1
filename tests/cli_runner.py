"""Running the real `chaosbus` command line in a subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str

    @property
    def last_error_line(self) -> str:
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        return lines[-1] if lines else ""


def chaosbus(*args: str, env: dict[str, str] | None = None, timeout_s: float = 60) -> Outcome:
    result = subprocess.run(
        [sys.executable, "-m", "chaosbus", *args],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        env={**os.environ, **(env or {})},
        check=False,
    )
    return Outcome(result.returncode, result.stdout, result.stderr)
