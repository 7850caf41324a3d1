"""`chaosbus proxy --workers N`'s supervisor: its arguments, merged status, restarts."""

from __future__ import annotations

import asyncio
import sys

from chaosbus.standalone.workers import StatusBoard, Workers, worker_args
from chaosbus.testing import poll_until


class TestWorkerArgs:
    def test_workers_removed_and_one_run_id_added(self) -> None:
        """Both spellings of --workers go; the supervisor's run id is given to every worker."""
        argv = ["proxy", "--workers", "3", "--route", "a:b", "--workers=2"]
        assert worker_args(argv, "r1") == ["proxy", "--route", "a:b", "--run-id", "r1"]

    def test_a_given_run_id_is_kept(self) -> None:
        """A --run-id the operator gave is the workers' own, not replaced."""
        argv = ["proxy", "--run-id", "mine", "--workers", "2"]
        assert worker_args(argv, "other") == ["proxy", "--run-id", "mine"]


class TestStatusBoard:
    def test_merged_line_sums_the_workers(self) -> None:
        """Held and in flight of the live processes, decisions of every process there was
        (a restarted worker's earlier counts stay)."""
        board = StatusBoard(2)
        assert board.read(0, 1, "12:00:01 INFO a->b held=3 in_flight=10 pass=100 delay=3")
        assert board.read(1, 1, "a->b held=1 in_flight=5 pass=50")
        assert board.read(0, 2, "a->b held=0 in_flight=2 pass=7")
        assert not board.read(1, 1, "chaosbus proxy: run r1, routes a->b")
        assert board.merged({(0, 2), (1, 1)}) == [
            "a->b workers=2 held=1 in_flight=7 delay=3 pass=157"
        ]


def child(code: str) -> list[str]:
    return [sys.executable, "-c", code]


class TestSupervision:
    async def test_a_killed_worker_is_started_again(self) -> None:
        """A worker that dies without being asked is restarted; SIGTERM then stops all."""
        workers = Workers(child("import time; time.sleep(60)"), 2, status_every_s=0.05)
        stopping = asyncio.Event()
        running = asyncio.create_task(workers.run(stopping))
        await poll_until(lambda: None not in workers.pids, bool, timeout_s=30, every_s=0.02)
        first = workers.processes[0]
        assert first is not None
        first.kill()
        await poll_until(
            lambda: workers.processes[0] is not first and workers.pids[0] is not None,
            bool,
            timeout_s=30,
            every_s=0.02,
        )
        stopping.set()
        assert await asyncio.wait_for(running, 30) == 0
        assert workers.restarts[0].lines[0].startswith("was killed by SIGKILL at ")
        assert workers.restarts[1].lines == []

    async def test_a_worker_that_fails_stops_them_all(self) -> None:
        """Exit code 2 (invalid input, a refused message) is not restarted: every worker is
        stopped and the supervisor exits 2."""
        workers = Workers(child("import sys; sys.exit(2)"), 2, status_every_s=0.05)
        code = await asyncio.wait_for(workers.run(asyncio.Event()), 30)
        assert code == 2
        assert [r.lines for r in workers.restarts] == [[], []]
