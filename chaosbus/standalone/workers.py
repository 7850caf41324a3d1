"""`chaosbus proxy --workers N`: N interposer processes in one consumer group, supervised.

    chaosbus proxy --workers N …  (this process: the supervisor, forwards no message)
      ├── worker 0: python -m chaosbus proxy … --run-id R   stderr ──► "[worker 0] …"
      ├── worker 1: …                                        (one run id, one group: the
      └── worker N-1                                          partitions spread over them)

Each worker is the single-process proxy, unchanged: it drains and commits on SIGTERM, and
its partitions pass to the others when it leaves the group. The supervisor:

* relays every worker's log line with its slot (`[worker 1] …`), and every STATUS_EVERY_S
  says one merged status line per route, `<route> workers=N held=… in_flight=… pass=…`:
  the sum of the last status line of every worker process (a restarted worker's earlier
  process included, so the decision counts never go down);
* starts a worker again when it dies without being asked to (SIGKILL, OOM, a crash), under
  the restart policy the run's supervisor uses (`runner.restarts`); its partitions are read
  meanwhile by the others, from their committed offsets (at-least-once: what the dead one
  had not committed is forwarded again, and ledgered twice);
* on SIGTERM or SIGINT asks every worker to stop (SIGTERM) and waits for all of them;
* stops everything when a worker exits with code 2 (invalid input, a refused message) or
  runs out of restarts: the exit code of the first that failed.

Workers run in sessions of their own, so a Ctrl-C reaches the supervisor only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import signal
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from chaosbus.runner.restarts import RESTART_DELAY_S, STOP_TIMEOUT_S, Restarts, ending
from chaosbus.signals import stop_on_signals

log = logging.getLogger("chaosbus.proxy")

STATUS_EVERY_S = 5.0
EXIT_FAILED = 2
# The status line `streams.pacing` logs: "<route> held=N in_flight=N <decision>=N …".
STATUS = re.compile(r"(?P<route>\S+) held=(?P<held>\d+) in_flight=(?P<in_flight>\d+)(?P<rest>.*)$")


def worker_args(argv: Sequence[str], run_id: str) -> list[str]:
    """A worker's `chaosbus` arguments: the supervisor's, without `--workers`, with one
    run id for all (the one given, else `run_id`)."""
    out: list[str] = []
    skip = False
    has_run_id = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg == "--workers":
            skip = True
            continue
        if arg.startswith("--workers="):
            continue
        has_run_id = has_run_id or arg == "--run-id" or arg.startswith("--run-id=")
        out.append(arg)
    return out if has_run_id else [*out, "--run-id", run_id]


@dataclass
class StatusBoard:
    """The last status line of every worker process, per route, and their sum."""

    workers: int
    # (slot, incarnation) -> route -> (held, in_flight, decisions)
    lines: dict[tuple[int, int], dict[str, tuple[int, int, Counter[str]]]] = field(
        default_factory=dict
    )

    def read(self, slot: int, incarnation: int, line: str) -> bool:
        """Take a worker's log line; True when it was a status line."""
        found = STATUS.search(line)
        if found is None:
            return False
        decisions: Counter[str] = Counter()
        for pair in found["rest"].split():
            name, _, value = pair.partition("=")
            if value.isdigit():
                decisions[name] = int(value)
        routes = self.lines.setdefault((slot, incarnation), {})
        routes[found["route"]] = (int(found["held"]), int(found["in_flight"]), decisions)
        return True

    def merged(self, alive: set[tuple[int, int]]) -> list[str]:
        """One line per route: held and in flight of the processes alive now, decisions of
        every process there was."""
        held: Counter[str] = Counter()
        in_flight: Counter[str] = Counter()
        decisions: dict[str, Counter[str]] = {}
        for who, routes in self.lines.items():
            for route, (h, f, counts) in routes.items():
                if who in alive:
                    held[route] += h
                    in_flight[route] += f
                decisions.setdefault(route, Counter()).update(counts)
        return [
            f"{route} workers={self.workers} held={held[route]} in_flight={in_flight[route]} "
            + " ".join(f"{k}={v}" for k, v in sorted(counts.items()))
            for route, counts in sorted(decisions.items())
        ]


class Workers:
    """N supervised worker processes running `command` (the proxy without `--workers`)."""

    def __init__(
        self,
        command: Sequence[str],
        count: int,
        *,
        status_every_s: float = STATUS_EVERY_S,
        restart_limit: int | None = None,
    ) -> None:
        self.command = list(command)
        self.count = count
        self.status_every_s = status_every_s
        self.board = StatusBoard(count)
        self.restarts = [
            Restarts() if restart_limit is None else Restarts(restart_limit) for _ in range(count)
        ]
        self.processes: list[asyncio.subprocess.Process | None] = [None] * count
        self._incarnation = [0] * count
        self._stopping = False
        self._failed: int | None = None
        self._started = time.monotonic()

    @property
    def pids(self) -> list[int | None]:
        """Each slot's running worker's process id (what an operator, or a test, may kill)."""
        return [p.pid if p is not None and p.returncode is None else None for p in self.processes]

    async def run(self, stopping: asyncio.Event) -> int:
        """Run until `stopping` is set or a worker fails for good; the exit code."""
        supervisors = [asyncio.create_task(self._supervise(slot)) for slot in range(self.count)]
        status = asyncio.create_task(self._say_status())
        failed = asyncio.create_task(self._until_failed())
        asked = asyncio.create_task(stopping.wait())
        await asyncio.wait({failed, asked}, return_when=asyncio.FIRST_COMPLETED)
        failed.cancel()
        asked.cancel()
        self._stopping = True
        self.terminate_all()
        try:
            await asyncio.wait_for(asyncio.gather(*supervisors), STOP_TIMEOUT_S)
        except TimeoutError:
            log.warning("workers did not stop in %g s; killing them", STOP_TIMEOUT_S)
            for process in self.processes:
                if process is not None and process.returncode is None:
                    with contextlib.suppress(ProcessLookupError):
                        process.kill()
            await asyncio.gather(*supervisors)
        status.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await status
        for line in self.board.merged(set()):
            log.info("%s", line)
        return self._failed or 0

    def terminate_all(self) -> None:
        for process in self.processes:
            if process is not None and process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signal.SIGTERM)

    async def _until_failed(self) -> None:
        while self._failed is None:  # noqa: ASYNC110  # set by the supervisors, rarely read
            await asyncio.sleep(0.1)

    async def _supervise(self, slot: int) -> None:
        while not self._stopping:
            process = await self._spawn(slot)
            relay = asyncio.create_task(self._relay(slot, self._incarnation[slot], process))
            code = await process.wait()
            await relay
            if self._stopping:
                return
            why = ending(code)
            restarts = self.restarts[slot]
            if code == EXIT_FAILED or not restarts.allowed():
                log.error("worker %d %s; stopping every worker", slot, why)
                self._failed = self._failed or (code if code > 0 else EXIT_FAILED)
                return
            line = restarts.record(why, time.monotonic() - self._started)
            log.warning("worker %d %s", slot, line)
            await asyncio.sleep(RESTART_DELAY_S)

    async def _spawn(self, slot: int) -> asyncio.subprocess.Process:
        self._incarnation[slot] += 1
        process = await asyncio.create_subprocess_exec(
            *self.command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
        self.processes[slot] = process
        log.info("worker %d started (pid %d)", slot, process.pid)
        return process

    async def _relay(
        self, slot: int, incarnation: int, process: asyncio.subprocess.Process
    ) -> None:
        assert process.stderr is not None
        while line := await process.stderr.readline():
            text = line.decode(errors="replace").rstrip()
            if not text:
                continue
            self.board.read(slot, incarnation, text)
            sys.stderr.write(f"[worker {slot}] {text}\n")

    async def _say_status(self) -> None:
        while True:
            await asyncio.sleep(self.status_every_s)
            alive = {
                (slot, self._incarnation[slot])
                for slot, process in enumerate(self.processes)
                if process is not None and process.returncode is None
            }
            for line in self.board.merged(alive):
                log.info("%s", line)


async def run_workers(command: Sequence[str], count: int, *, status_every_s: float) -> int:
    """Supervise `count` workers until SIGTERM/SIGINT; the exit code."""
    stopping = asyncio.Event()
    with stop_on_signals(stopping):
        return await Workers(command, count, status_every_s=status_every_s).run(stopping)
