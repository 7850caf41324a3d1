"""The wind-down's wait: until the monitors have read the source to its end and the ledger
record of every source message read, with the answer as a fact (`CatchUp`).

    the source's end offsets, read once (retried while the broker does not answer)
      └─► until the source reader's positions reach them
          and every source message read has its ledger record (`Collector.undecided`)
      └─► CatchUp(reached=True), else at the deadline (or once the interposer stopped)
          CatchUp(reached=False, detail=the one line saying how far it got)

The final look of a run is taken after this wait. Had the ledger not reached the source's
end, deliveries may still come after that look, so a run whose catch-up was not reached is
not `held` (decision 0270). A broker that does not answer is waited for until the deadline,
never longer: each attempt is bounded, so a broker that hangs cannot hang the run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from aiokafka.errors import KafkaConnectionError, KafkaError

from chaosbus.clients.connection import KafkaSettings
from chaosbus.monitors.reads import CatchUp
from chaosbus.runner.collector import Collector
from chaosbus.runner.readers import TopicReader, end_positions

# Between two looks at the readers (they are other tasks; there is no event to await).
LOOK_EVERY_S = 0.05
# Between two attempts to read the source's end while the broker does not answer.
RETRY_EVERY_S = 0.5


@dataclass(frozen=True, slots=True)
class ReadProgress:
    """How far the readers got towards the source's end."""

    total: int  # source messages from where the run started to the end
    read: int  # of them, read by the source reader
    undecided: int  # read, and without a ledger record

    @property
    def reached(self) -> bool:
        return self.read >= self.total and self.undecided == 0

    def describe(self) -> str:
        if self.read < self.total:
            return f"the source was read to {self.read} of its {self.total} messages"
        return f"{self.undecided} of the {self.read} source messages read have no ledger record"


async def wait_caught_up(
    kafka: KafkaSettings,
    source: TopicReader,
    starts: dict[int, int],
    collector: Collector,
    *,
    timeout_s: float,
    failed: Callable[[], bool],
) -> CatchUp:
    """Wait up to `timeout_s` for the readers to reach the source's end as it is now."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    ends: dict[int, int] | None = None
    problem = "not attempted"
    while True:
        left = max(deadline - loop.time(), 0.1)
        if ends is None:
            try:
                ends = await asyncio.wait_for(end_positions(kafka, source.topic), left)
            except (KafkaError, OSError, TimeoutError) as exc:
                problem = _unanswered(kafka, exc)
        progress = None
        if ends is not None:
            try:
                progress = await asyncio.wait_for(_progress(source, starts, ends, collector), left)
            except TimeoutError:
                problem = "the source reader's position could not be read"
        if progress is not None and progress.reached:
            return CatchUp(reached=True)
        said = problem if progress is None else progress.describe()
        if failed():
            return CatchUp(reached=False, detail=f"the interposer stopped; {said}")
        if loop.time() >= deadline:
            return CatchUp(reached=False, detail=f"{said} after {timeout_s:g} s")
        await asyncio.sleep(LOOK_EVERY_S if ends is not None else RETRY_EVERY_S)


async def _progress(
    source: TopicReader, starts: dict[int, int], ends: dict[int, int], collector: Collector
) -> ReadProgress:
    positions = await source.positions()
    total = read = 0
    for partition, end in ends.items():
        start = starts.get(partition, 0)
        total += max(end - start, 0)
        read += max(min(positions.get(partition, start), end) - start, 0)
    return ReadProgress(total, read, collector.undecided(ends))


def _unanswered(kafka: KafkaSettings, exc: BaseException) -> str:
    """Why the source's end offsets could not be read, in one line, no secret."""
    if isinstance(exc, KafkaConnectionError | TimeoutError | OSError):
        why = f"no Kafka broker answered at {kafka.describe()}"
    else:
        why = f"{type(exc).__name__}: {exc}"
    return f"the source's end offsets could not be read ({why})"
