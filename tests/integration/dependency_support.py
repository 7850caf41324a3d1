"""Chaos on chaosbus: what the dependency-failure tests share.

- `PrivateStack`: Kafka and Redis of a test module's own, on free ports, so that stopping one
  disturbs no other test (the session's `local_stack` is never stopped); every test starts
  with both running (`ensure_running`).
- `Phases`: an `on_progress` that lets a test act when a run reaches a phase or a state.
- `restarting_service`: a demo service that is started again when it crashes, as an
  orchestrator would restart a service whose store or broker went away.
- `persistent_traffic`: order events sent at a steady rate, each retried until the broker
  takes it (a broker that is away delays the traffic; it does not end it).
- `agreement`: the ledger and the destination agree: every decided source message is on
  the destination as many times as its decision says (none when dropped), nothing is there
  that no decision explains, and what the run never decided is a suffix of its partition.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka.errors import KafkaError

from chaosbus.contracts.ledger_record import LedgerRecord
from chaosbus.local.stack import LocalStack, default_cache
from chaosbus.report.model import RunReport
from chaosbus.runner import Progress
from chaosbus.testing import free_port_pair, read_all
from chaosbus_demo.services import LedgerService, ServiceConfig
from chaosbus_demo.traffic import KafkaSink
from tests.integration.runner_support import Stage, ledger_of, service_group, traffic

OUTAGE_S = 10.0  # how long a stopped dependency stays down (issue 19)


def private_stack(home: Path) -> LocalStack:
    """A stack of one module's own: Kafka and Redis on free loopback ports, started."""
    stack = LocalStack(
        home=home, cache=default_cache(), kafka_port=free_port_pair(), redis_port=free_port_pair()
    )
    started = time.monotonic()
    stack.up()
    print(f"\nprivate stack up in {time.monotonic() - started:.0f} s")
    return stack


def ensure_running(stack: LocalStack) -> None:
    """Restart what an earlier test left stopped (a failed test must not fail the next)."""
    if not stack.redis().running():
        stack.redis().start()
    for node in stack.kafka_nodes():
        if not node.running():
            node.start()


async def stopped_for(stop: Callable[[], object], start: Callable[[], object]) -> float:
    """Stop a dependency, keep it down for OUTAGE_S, start it again (the start waits until
    it answers); returns the moment it stopped, in epoch ms."""
    await asyncio.to_thread(stop)
    stopped_ms = int(time.time() * 1000)
    # The outage's length is the test's input, not a condition to wait for.
    await asyncio.sleep(OUTAGE_S)
    await asyncio.to_thread(start)
    return stopped_ms


class Phases:
    """An `on_progress` keeping the last progress; tests await a phase or a condition."""

    def __init__(self) -> None:
        self.last: Progress | None = None
        self.seen: list[str] = []
        self._waiters: list[tuple[Callable[[Progress], bool], asyncio.Event]] = []

    def __call__(self, progress: Progress) -> None:
        self.last = progress
        if progress.phase not in self.seen:
            self.seen.append(progress.phase)
        for condition, met in self._waiters:
            if condition(progress):
                met.set()

    async def until(self, condition: Callable[[Progress], bool], *, timeout_s: float = 60) -> None:
        met = asyncio.Event()
        if self.last is not None and condition(self.last):
            return
        self._waiters.append((condition, met))
        try:
            await asyncio.wait_for(met.wait(), timeout_s)
        finally:
            self._waiters.remove((condition, met))

    async def reached(self, phase: str, *, timeout_s: float = 60) -> None:
        await self.until(lambda _: phase in self.seen, timeout_s=timeout_s)


@dataclass
class ServiceHandle:
    """The restarting service: its crashes so far, and the instance running now."""

    crashes: list[str] = field(default_factory=list)
    current: LedgerService | None = None


@contextlib.asynccontextmanager
async def restarting_service(stage: Stage, **options: object) -> AsyncIterator[ServiceHandle]:
    """The safe demo service on the stage's destination, started again after each crash."""
    config = ServiceConfig(
        kind="safe",
        topic=stage.destination,
        kafka=stage.kafka,
        redis_url=stage.redis_url,
        prefix=stage.prefix,
        group_id=service_group(stage),
        **options,  # type: ignore[arg-type]
    )
    stop = asyncio.Event()
    handle = ServiceHandle()

    async def keep_running() -> None:
        while not stop.is_set():
            try:
                async with LedgerService(config) as service:
                    handle.current = service
                    await service.run(stop)
            except (Exception, asyncio.CancelledError) as exc:
                task = asyncio.current_task()
                if isinstance(exc, asyncio.CancelledError) and task and task.cancelling():
                    raise  # this task's own cancellation
                # Its store or broker went away (aiokafka's stop can raise a stray
                # CancelledError when a fetch was backing off): started again.
                handle.crashes.append(f"{type(exc).__name__}: {exc}")
                handle.current = None
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 0.5)  # an orchestrator's back-off

    running = asyncio.create_task(keep_running())
    try:
        yield handle
    finally:
        stop.set()
        await running


@contextlib.asynccontextmanager
async def persistent_traffic(
    stage: Stage, go: asyncio.Event, *, events: int = 150, rate: float = 75.0
) -> AsyncIterator[asyncio.Task[int]]:
    """Order events at `rate` once `go` is set, each sent again until the broker takes it;
    the task's result is how many were sent."""

    async def send_all() -> int:
        await go.wait()
        async with KafkaSink(stage.kafka, stage.source) as sink:
            loop = asyncio.get_running_loop()
            start = loop.time()
            for index, event in enumerate(traffic(stage, events)):
                while True:
                    try:
                        await sink.send(event)
                        break
                    except KafkaError:
                        await asyncio.sleep(0.2)  # the broker is away: try again shortly
                # Pacing, not synchronisation: the outside world sends at its own rate.
                await asyncio.sleep(max(start + (index + 1) / rate - loop.time(), 0))
        return events

    task = asyncio.create_task(send_all())
    try:
        yield task
    finally:
        if not task.done():
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@dataclass(frozen=True)
class Agreement:
    decided: int  # source messages with a ledger record of the run
    dropped: int  # of them, dropped by a fault
    forwarded: int  # records on the destination
    undecided: int  # source messages the run never read (sent after it stopped)
    extra: int  # copies beyond the decisions (re-sent after an interposer restart)


async def agreement(stage: Stage, run_id: str, *, extra_allowed: bool = False) -> Agreement:
    """Compare the source, the run's ledger and the destination; assert they agree."""
    source = await read_all(stage.kafka, stage.source)
    ledger = await ledger_of(stage, run_id)
    destination = Counter((r.key, r.value) for r in await read_all(stage.kafka, stage.destination))
    decisions: dict[tuple[int, int], list[LedgerRecord]] = defaultdict(list)
    for record in ledger:
        decisions[(record.partition, record.offset)].append(record)
    expected: Counter[tuple[bytes | None, bytes | None]] = Counter()
    decided = dropped = 0
    undecided: dict[int, list[int]] = defaultdict(list)
    last_decided: dict[int, int] = {}
    for message in source:
        found = decisions.get((message.partition, message.offset))
        if not found:
            undecided[message.partition].append(message.offset)
            continue
        decided += 1
        last_decided[message.partition] = max(
            last_decided.get(message.partition, -1), message.offset
        )
        # Every decision of one message is the same (seeded by its coordinates).
        assert len({(r.fault, len(r.emissions)) for r in found}) == 1, found
        dropped += found[0].dropped
        expected[(message.key, message.value)] += len(found[0].emissions)
    for partition, offsets in undecided.items():
        # What the run did not read lies after everything it read: nothing skipped.
        assert min(offsets) > last_decided.get(partition, -1), (partition, offsets[:5])
    extra = 0
    for content in expected.keys() | destination.keys():
        got, wanted = destination[content], expected[content]
        assert got >= wanted, f"a decided copy is missing from the destination: {content!r}"
        assert wanted or not got, f"on the destination with no decision: {content!r}"
        extra += got - wanted
    assert extra_allowed or extra == 0, f"{extra} copies no decision asked for"
    return Agreement(
        decided=decided,
        dropped=dropped,
        forwarded=sum(destination.values()),
        undecided=sum(len(v) for v in undecided.values()),
        extra=extra,
    )


def one_line(report: RunReport) -> str:
    """The report's reason, which must be one line."""
    reason = report.reason or ""
    assert "\n" not in reason, reason
    return reason
