"""When a supervised interposer process is started again, and how its ending is said.

One policy for both supervisors: the run's topic side in a child process
(`runner.supervised_side`, decision 0271) and `chaosbus proxy --workers N`
(`standalone.workers`). A process that ended without being asked to, and without saying it
failed for good, is started again after RESTART_DELAY_S, at most MAX_RESTARTS times per
place (a run's child, one worker slot); each restart is one line saying when and why.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass, field

MAX_RESTARTS = 3
RESTART_DELAY_S = 0.5
# A process asked to stop drains and commits (the proxy's own drain is bounded at 60 s);
# one that has not exited well after that is killed.
STOP_TIMEOUT_S = 90.0


def ending(code: int) -> str:
    """How a process ended, for a restart line: "was killed by SIGKILL", "exited with code 1"."""
    if code < 0:
        return f"was killed by {signal.Signals(-code).name}"
    return f"exited with code {code}"


@dataclass
class Restarts:
    """The restarts of one supervised place: one line each, and whether one more may follow."""

    limit: int = MAX_RESTARTS
    lines: list[str] = field(default_factory=list)

    def allowed(self) -> bool:
        return len(self.lines) < self.limit

    def record(self, why: str, at_s: float) -> str:
        line = f"{why} at {at_s:.1f} s; started again"
        self.lines.append(line)
        return line
