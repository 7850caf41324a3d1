"""Detached server processes tracked by pid files, so `local down` works from another shell."""

from __future__ import annotations

import os
import pwd
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path


def read_pid(pid_file: Path) -> int | None:
    try:
        pid = int(pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    return pid if is_alive(pid) else None


def is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still answers kill(0); reap it so it counts as gone.
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return done == 0


def spawn(
    argv: Sequence[str], *, log_file: Path, pid_file: Path, cwd: Path, user: str | None = None
) -> int:
    """Start a server in its own session, so a Ctrl-C in the caller's terminal spares it.

    `user` runs it as another account (PostgreSQL refuses to run as root)."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            user=user,
            group=None if user is None else _primary_group(user),
            extra_groups=None if user is None else [],
        )
    pid_file.write_text(f"{proc.pid}\n")
    return proc.pid


def _primary_group(user: str) -> int:
    return pwd.getpwnam(user).pw_gid


def stop(pid_file: Path, *, grace_s: float, sig: signal.Signals = signal.SIGTERM) -> bool:
    """`sig`, wait up to `grace_s` for a clean exit, then SIGKILL. True if one was running."""
    pid = read_pid(pid_file)
    if pid is None:
        pid_file.unlink(missing_ok=True)
        return False
    os.kill(pid, sig)
    if not wait_until(lambda: not is_alive(pid), timeout_s=grace_s):
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: not is_alive(pid), timeout_s=10)
    pid_file.unlink(missing_ok=True)
    return True


def kill(pid_file: Path) -> bool:
    """SIGKILL at once, as a crash would end it. True if one was running."""
    pid = read_pid(pid_file)
    if pid is None:
        return False
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not is_alive(pid), timeout_s=10)
    pid_file.unlink(missing_ok=True)
    return True


def wait_until(condition: Callable[[], bool], *, timeout_s: float, interval_s: float = 0.1) -> bool:
    """Poll a condition that has no event to await (a foreign process's state)."""
    deadline = time.monotonic() + timeout_s
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval_s)
