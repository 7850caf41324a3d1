"""The proxy as a real OS process, for tests that kill it."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import tempfile
from pathlib import Path

from chaosbus.testing import poll_until


class ProxyProcess:
    """`python -m chaosbus proxy ...`; stderr goes to a file, since a full pipe would block it."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.args = args
        self.extra_env = env or {}
        self.process: asyncio.subprocess.Process | None = None
        self.log = Path(tempfile.mkstemp(prefix="chaosbus-proxy-", suffix=".log")[1])

    async def start(self) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.extra_env}
        with self.log.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "chaosbus",
                "proxy",
                *self.args,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=log,
                env=env,
            )

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def terminate(self, timeout_s: float = 90) -> tuple[int, str]:
        """SIGTERM and wait; returns the exit code and the last lines of the log."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(self.process.wait(), timeout_s)
        tail = self.log.read_text(errors="replace").splitlines()[-20:]
        return code, "\n".join(tail)

    async def wait_for_log(self, text: str, *, timeout_s: float) -> bool:
        """Wait until the process has logged `text` (its status lines report what it holds)."""

        def logged() -> bool:
            return text in self.log.read_text(errors="replace")

        def exited() -> bool:
            return self.process is not None and self.process.returncode is not None

        # The log is a file written by another process: polling it is the only way.
        await poll_until(lambda: logged() or exited(), bool, timeout_s=timeout_s, every_s=0.1)
        return logged()
