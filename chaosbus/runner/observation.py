"""What the monitors read during a run: the ledger, the source, each check's probe, the lag.

    ledger topic ─┐ (TopicReader, this run's records)
    source topic ─┤ (TopicReader, from where the interposer's group starts)
    each probe   ─┼─► Collector ─► snapshot (live) / verdict (batch, at the end)
    group lag    ─┘ (every poll, with monitor.service_group)

`LiveObservation` is an async context manager. Enter it before the topic side starts
the interposer: the source is read from the positions the interposer's group will start
at, taken on entry. On entry the readers run, every check's probe is open (a listing has
its baseline, an effects topic is read from its end: `runner.check_readers`), and a task
reads every probe and samples the lag each `monitor.poll_ms`; on exit all are closed.
Without topic routes (an HTTP-only run) it reads nothing and Kafka is never touched.

A read that fails is retried at the next poll and counted (`reads`, `monitors.reads`): the
failures of each probe and of the lag, their last error, whether the final look read; each
failure is logged at DEBUG, and once per failing reader, with its count, when the run's
facts are frozen (`say_failures`). `wait_caught_up` says whether the source and the ledger
were read to the source's end (`runner.catch_up`), the broker answering or not.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Callable
from contextlib import AsyncExitStack
from types import TracebackType
from typing import Self

from chaosbus.contracts.clock import Clock
from chaosbus.contracts.ledger_record import LEDGER_TOPIC, route_name
from chaosbus.errors import Unreachable
from chaosbus.experiment.spec import ExperimentSpec
from chaosbus.monitors.errors import MonitorError, ReaderError
from chaosbus.monitors.lag import LagSample, ServiceProgress
from chaosbus.monitors.probes.group_lag import GroupLagReader
from chaosbus.monitors.probes.kind import ProbeContext, ProbeReader
from chaosbus.monitors.reads import LAG, CatchUp, ReadLog, Reads
from chaosbus.monitors.redelivery import redelivered
from chaosbus.monitors.report import Latency, MonitorReport
from chaosbus.runner.catch_up import wait_caught_up
from chaosbus.runner.check_readers import open_check_reader
from chaosbus.runner.collector import Collector
from chaosbus.runner.latency import LiveLatency
from chaosbus.runner.readers import (
    TopicReader,
    end_positions,
    ledger_handler,
    start_positions,
)

log = logging.getLogger(__name__)

# A lag sample is three small admin requests; one the broker leaves unanswered (aiokafka
# waits up to its 40 s request timeout) must not stall every probe's next read.
LAG_SAMPLE_TIMEOUT_S = 5.0


class LiveObservation:
    def __init__(
        self, spec: ExperimentSpec, *, run_id: str, probes: ProbeContext, clock: Clock
    ) -> None:
        self.spec = spec
        self.collector = Collector(spec.monitor, lag_route=lag_route(spec))
        self._run_id = run_id
        self._probes = probes
        self._kafka = probes.kafka
        self._clock = clock
        self._starts: dict[int, int] = {}
        self._readers: dict[str, ProbeReader] = {}
        self._lag: GroupLagReader | None = None
        self._source: TopicReader | None = None
        self._catch_up: CatchUp | None = None
        lag = [LAG] if spec.routes and spec.monitor.service_group else []
        self.reads = ReadLog([*(c.name for c in spec.monitor.checks), *lag])
        self._stack = AsyncExitStack()

    async def __aenter__(self) -> Self:
        try:
            await self._start()
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._stack.aclose()

    async def _start(self) -> None:
        if not self.spec.routes:
            return
        source = self.spec.monitor.source_topic
        self._starts = await start_positions(self._kafka, source, self.spec.group_id)
        ledger_ends = await end_positions(self._kafka, LEDGER_TOPIC)
        feed_ledger = ledger_handler(self._run_id, self.collector.feed_ledger)
        await self._stack.enter_async_context(
            TopicReader(self._kafka, LEDGER_TOPIC, ledger_ends, feed_ledger)
        )
        self._source = await self._stack.enter_async_context(
            TopicReader(self._kafka, source, self._starts, self.collector.feed_source)
        )
        for check in self.spec.monitor.checks:
            self._readers[check.name] = await open_check_reader(self._stack, check, self._probes)
        await self._open_lag()
        poller = asyncio.create_task(self._poll_loop(), name="chaosbus-probes")
        self._stack.push_async_callback(_cancel, poller)

    async def _open_lag(self) -> None:
        """The service group's lag reader, when `monitor.service_group` names one."""
        group = self.spec.monitor.service_group
        if group is None:
            return
        try:
            reader = GroupLagReader(self._kafka, group, lag_destination(self.spec))
            self._lag = await self._stack.enter_async_context(reader)
        except MonitorError as exc:
            raise Unreachable(f"monitor.service_group: {exc}") from exc

    # ---- reading ---------------------------------------------------------------------------

    async def observe(self, *, final: bool = False) -> None:
        """Read every check's probe once (state: every entity known so far), and the lag;
        `final`: the last look, whose observations are kept even when unchanged."""
        now = self._clock()
        for name, reader in self._readers.items():
            try:
                reading = await reader.read(self.collector.entities(name), now)
            except MonitorError as exc:
                self._failed(name, exc, final)
                continue
            self.reads.record(name, None, final=final)
            self.collector.feed_reading(name, reading, force=final)
        await self._sample_lag(now, final)

    async def _sample_lag(self, now: int, final: bool) -> None:
        if self._lag is None or self.collector.lag is None:
            return
        try:
            sample = await self._lag_sample(now)
        except MonitorError as exc:
            self._failed(LAG, exc, final)
            return
        self.reads.record(LAG, None, final=final)
        self.collector.feed_lag(sample)

    async def _lag_sample(self, now: int) -> LagSample:
        assert self._lag is not None
        try:
            sample = await asyncio.wait_for(self._lag.sample(now), LAG_SAMPLE_TIMEOUT_S)
        except TimeoutError as exc:
            raise ReaderError(
                f"group lag of {self._lag.group}: no answer in {LAG_SAMPLE_TIMEOUT_S:g} s",
                retriable=True,
            ) from exc
        # Dated when the answer came, not when it was asked: the commits it shows happened
        # by then, perhaps well after `now` on a loaded machine, and a unit's settling
        # counts from them (`Consumed`), so an early date would judge it too soon.
        return dataclasses.replace(sample, at_ms=max(now, self._clock()))

    def _failed(self, name: str, exc: MonitorError, final: bool) -> None:
        # Said once with its count when the facts are frozen (`say_failures`), not per poll.
        log.debug("%s: %s", name, exc)
        self.reads.record(name, str(exc), final=final)

    async def _poll_loop(self) -> None:
        interval = self.spec.monitor.poll_ms / 1000
        while True:
            await self.observe()
            await asyncio.sleep(interval)

    async def wait_caught_up(self, timeout_s: float, *, failed: Callable[[], bool]) -> CatchUp:
        """Wait until the source is read to its end now and every message read has its
        ledger record; the answer, also kept for the facts (`reads`). Gives up at the
        deadline or as soon as `failed()` (the interposer stopped: nothing more will be
        decided)."""
        if self._source is None:
            return CatchUp(reached=True)  # nothing is held on the HTTP side
        self._catch_up = await wait_caught_up(
            self._kafka,
            self._source,
            self._starts,
            self.collector,
            timeout_s=timeout_s,
            failed=failed,
        )
        return self._catch_up

    async def wait_service_caught_up(self, timeout_s: float) -> bool:
        """With `monitor.service_group`: wait until the service has committed everything
        the interposer wrote (so the last look sees what it did); False on timeout."""
        if self._lag is None:
            return True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            try:
                sample = await self._lag_sample(self._clock())
            except MonitorError as exc:
                log.debug("%s: %s", LAG, exc)
                return False
            # Kept with the run's samples: the one that sees the last commits dates them
            # before the final read, which then counts as settled (`Consumed`).
            self.collector.feed_lag(sample)
            if not any(sample.lag().values()):
                return True
            if loop.time() >= deadline:
                return False
            # Another process's progress: there is nothing to await but the next sample.
            await asyncio.sleep(self.spec.monitor.poll_ms / 1000)

    # ---- what the runner reads -------------------------------------------------------------

    @property
    def latency(self) -> LiveLatency:
        """First-sighting latencies so far (the timeline's, the live `latency_ms.*`)."""
        return self.collector.latency

    def latency_since(self, since_ms: int) -> Latency:
        return self.collector.latency.window(since_ms)

    def snapshot(self, now_ms: int) -> dict[str, MonitorReport]:
        """The live verdict of every check now."""
        return self.collector.snapshot(now_ms)

    def service_caught_up(self) -> bool:
        """Whether the service has caught up with what waits for it (True without a group)."""
        lag = self.collector.lag
        return lag is None or lag.caught_up_now()

    def service_progress(self, since_ms: int | None) -> ServiceProgress | None:
        """The service group's lag so far (`since_ms`: the end of injection, if any)."""
        lag, group = self.collector.lag, self.spec.monitor.service_group
        if lag is None or group is None or self._lag is None:
            return None
        return lag.summary(group, self._lag.topic, since_ms)

    def verdict(self, horizon_ms: int, origin_ms: int | None = None) -> dict[str, MonitorReport]:
        """The batch checker over everything read: the run's verdict per check; times in
        the examples' details count from `origin_ms` (the run's start)."""
        return self.collector.verdict(horizon_ms, origin_ms)

    def read_facts(self) -> Reads:
        """What the monitors could read so far: each reader's failures, the catch-up."""
        return self.reads.facts(self._catch_up)

    def say_failures(self) -> None:
        """One line per reader that failed, with its count: the console's only word on it."""
        for name, reads in self.read_facts().probes.items():
            if reads.failed:
                log.warning("%s", reads.describe(name))

    def redelivered(self) -> int:
        """Copies an at-least-once interposer sent again after a restart (this run's)."""
        return redelivered(self.collector.ledger)


def lag_destination(spec: ExperimentSpec) -> str:
    """The topic whose consumer is `monitor.service_group`: the monitored route's
    destination."""
    source = spec.monitor.source_topic
    return next(r.destination for r in spec.routes if r.source == source)


def lag_route(spec: ExperimentSpec) -> str | None:
    """The route the service group's lag samples read, when it has one."""
    if spec.monitor.service_group is None or not spec.routes:
        return None
    return route_name(spec.monitor.source_topic, lag_destination(spec))


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
