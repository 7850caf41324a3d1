"""The topic side in a child process that the runner restarts when it dies (decision 0271).

    SupervisedTopicSide ──spawn──► python -m chaosbus.runner.interposer_child
          │  Launch, Commands (stdin)        Status lines (stdout) ──► counts, held
          │                                  log lines (stderr)    ──► relayed as warnings
          └─ supervisor: the child ended without being asked to
               ├─ it said a `failure` (a refused message, a missing topic): not restarted;
               │  `failure()` says it and the run aborts, as in-process
               └─ killed (SIGKILL, OOM) or crashed: started again from the group's
                  committed offsets, at the intensity, kill-switch state and pauses of now, with
                  `max_faults` lowered by the faults already injected; at most
                  MAX_RESTARTS times, each one a line in `restarts`

It offers what `TopicSide` offers (intensity, stop injecting, pauses, counts, held,
failure, stop),
so the runner drives either the same way. Counts are the sum of every child's last word:
a message a killed child decided and had not committed is decided again by the next (the
same way: decisions are seeded by its coordinates), and its ledger holds it twice
(`redelivered`). The child runs in a session of its own: a Ctrl-C reaches the runner only,
which winds down and then stops the child through stdin.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections import Counter
from types import TracebackType
from typing import Self

from pydantic import ValidationError

from chaosbus.clients.connection import KafkaSettings
from chaosbus.contracts.clock import Clock
from chaosbus.control.scopes import NOTHING_PAUSED, Paused
from chaosbus.errors import ChaosbusError, InvalidInput, Unreachable
from chaosbus.experiment.spec import ExperimentSpec
from chaosbus.runner.interposer_protocol import CHILD_MODULE, Command, Launch, Pauses, Status
from chaosbus.runner.preflight import routes_of
from chaosbus.runner.restarts import MAX_RESTARTS, RESTART_DELAY_S, STOP_TIMEOUT_S, Restarts, ending

log = logging.getLogger(__name__)

__all__ = ["MAX_RESTARTS", "STOP_TIMEOUT_S", "SupervisedTopicSide"]


class SupervisedTopicSide:
    def __init__(
        self,
        spec: ExperimentSpec,
        *,
        kafka: KafkaSettings,
        run_id: str,
        clock: Clock,
        salt: bytes | None = None,
    ) -> None:
        self.spec = spec
        self.routes = routes_of(spec)
        self._restarts = Restarts()
        self._kafka = kafka
        self._run_id = run_id
        self._salt = salt
        self._clock = clock
        self._started_ms = clock()
        self._intensity = 0.0
        self._injecting = True
        self._paused = NOTHING_PAUSED
        self._status = Status()  # the current child's last word
        self._before: list[Status] = []  # the last word of each child that died
        self._process: asyncio.subprocess.Process | None = None
        self._pumps: list[asyncio.Task[None]] = []
        self._supervisor: asyncio.Task[None] | None = None
        self._failure: str | None = None
        self._stopping = False

    async def __aenter__(self) -> Self:
        if self.routes:
            await self._spawn()
            self._supervisor = asyncio.create_task(self._supervise(), name="chaosbus-supervisor")
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def restarts(self) -> list[str]:
        """One line per restart: when and why."""
        return self._restarts.lines

    # ---- what the runner drives --------------------------------------------------------

    def set_intensity(self, intensity: float) -> None:
        self._intensity = intensity
        self._send(Command(intensity=intensity))

    async def stop_injecting(self) -> None:
        """No more faults, what is held released: said to the child at once (and to every
        child started after)."""
        self._injecting = False
        self._send(Command(injecting=False))

    def apply_pauses(self, paused: Paused) -> None:
        """The scoped switches (`control.scopes`), applied by the child as in-process."""
        self._paused = paused
        self._send(Command(pauses=Pauses.of(paused)))

    @property
    def injecting(self) -> bool:
        return self._injecting and self._intensity > 0

    @property
    def held(self) -> int:
        return self._status.held

    @property
    def pid(self) -> int | None:
        """The running child's process id (what an operator, or a test, may kill)."""
        return self._process.pid if self._process is not None else None

    def fault_counts(self) -> dict[str, int]:
        if not self.routes:
            return {}
        total: Counter[str] = Counter()
        for status in (*self._before, self._status):
            total.update(status.counts)
        return dict(total)

    def refused(self) -> int:
        return sum(status.refused for status in (*self._before, self._status))

    def suppressed_counts(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for status in (*self._before, self._status):
            total.update(status.suppressed)
        return dict(total)

    def failure(self) -> BaseException | None:
        """What stopped the interposer for good, if anything did (no restart follows)."""
        return None if self._failure is None else ChaosbusError(self._failure)

    async def stop(self) -> None:
        """Ask the child to stop (it releases what it holds, drains, commits) and wait."""
        self._stopping = True
        self._ask_to_stop()
        process = self._process
        if self._supervisor is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._supervisor), STOP_TIMEOUT_S)
            except TimeoutError:
                log.warning("the interposer did not stop in %g s; killing it", STOP_TIMEOUT_S)
                with contextlib.suppress(ProcessLookupError):
                    if process is not None:
                        process.kill()
                await self._supervisor

    # ---- the child -------------------------------------------------------------------------

    async def _spawn(self) -> None:
        launch = Launch.of(
            self._spec_now(),
            self._kafka,
            run_id=self._run_id,
            salt=self._salt,
            intensity=self._intensity,
            injecting=self._injecting,
            paused=self._paused,
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            CHILD_MODULE,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
        assert process.stdin is not None
        assert process.stdout is not None
        assert process.stderr is not None
        self._process, self._status = process, Status()
        process.stdin.write(launch.line())
        started = asyncio.Event()
        self._pumps = [
            asyncio.create_task(self._read_status(process.stdout, started)),
            asyncio.create_task(_relay(process.stderr)),
        ]
        exited = asyncio.create_task(process.wait())
        waiting = asyncio.create_task(started.wait())
        await asyncio.wait({exited, waiting}, return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        exited.cancel()
        if not started.is_set():
            await process.wait()
            await asyncio.gather(*self._pumps)
            why = self._status.failure or f"the interposer exited with code {process.returncode}"
            raise (Unreachable if self._status.unreachable else InvalidInput)(why)

    def _spec_now(self) -> ExperimentSpec:
        """The experiment as the next child runs it: `max_faults` lowered by the faults
        the children before it injected, so a restart cannot widen the blast radius."""
        cap = self.spec.blast_radius.max_faults
        if cap is None or not self._before:
            return self.spec
        injected = sum(n for kind, n in self.fault_counts().items() if kind != "pass")
        blast = self.spec.blast_radius.model_copy(update={"max_faults": max(cap - injected, 0)})
        return self.spec.model_copy(update={"blast_radius": blast})

    async def _read_status(self, stdout: asyncio.StreamReader, started: asyncio.Event) -> None:
        while line := await stdout.readline():
            try:
                self._status = Status.model_validate_json(line)
            except ValidationError:
                log.warning("interposer: %s", line.decode(errors="replace").rstrip())
                continue
            if self._status.started:
                started.set()

    def _ask_to_stop(self) -> None:
        self._send(Command(stop=True))
        process = self._process
        if process is not None and process.stdin is not None:
            process.stdin.close()

    def _send(self, command: Command) -> None:
        process = self._process
        if process is None or process.stdin is None or process.stdin.is_closing():
            return  # no child now: the next one is launched with the state of then
        with contextlib.suppress(ConnectionError):
            process.stdin.write(command.line())

    async def _supervise(self) -> None:
        while True:
            process = self._process
            assert process is not None
            code = await process.wait()
            await asyncio.gather(*self._pumps)
            if self._stopping and self._status.failure is None:
                return
            if self._status.failure is not None:
                self._failure = self._status.failure
                return
            why = ending(code)
            if not self._restarts.allowed():
                self._failure = f"the interposer {why}, after {MAX_RESTARTS} restarts"
                return
            self._restarts.record(why, (self._clock() - self._started_ms) / 1000)
            log.warning(
                "the interposer %s; starting it again (%d of %d)",
                why,
                len(self.restarts),
                MAX_RESTARTS,
            )
            self._before.append(self._status)
            await asyncio.sleep(RESTART_DELAY_S)
            if self._stopping:
                return  # asked to stop meanwhile: the next run starts from the commits
            try:
                await self._spawn()
            except ChaosbusError as exc:
                self._failure = f"the interposer {why} and could not be started again: {exc}"
                return
            if self._stopping:
                self._ask_to_stop()  # asked while the new child was starting


async def _relay(stderr: asyncio.StreamReader) -> None:
    """The child's log lines, as warnings of the runner (the console rules apply again)."""
    while line := await stderr.readline():
        text = line.decode(errors="replace").rstrip()
        if text:
            log.warning("%s", text)
