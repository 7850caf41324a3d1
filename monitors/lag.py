"""The service's own progress: its consumer group's committed offsets against the topic's ends.

A service that blocks on one message stops consuming; its state merely stops changing,
which the models cannot tell from a quiet source. Its consumer group says it directly:
the committed offset of a partition stops moving while messages wait behind it. Sampled
every poll during a run (`monitors.probes.group_lag` reads the samples), this module
judges them, purely:

- lag of a partition: end offset minus committed offset; `lag_max` is the largest total
  over the partitions at any sample (messages waiting for the service at once);
- a *stall*: a partition whose committed offset stayed the same for at least `stall_ms`
  while its lag stayed above 0 - the `stalled_consumer` anomaly, one per partition;
- *caught up* at a sample: on every partition, the service has committed everything that
  was already in the topic `grace_ms` earlier. A healthy service polling in batches is
  rarely at lag 0 exactly while traffic flows, but it never leaves a message waiting long;
- `recovered_s(since)`: from `since` (the end of injection) to the first sample after which
  every sample is caught up; None when the last one is not (never recovered).
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict

DEFAULT_GRACE_MS = 1_000


@dataclass(frozen=True, slots=True)
class LagSample:
    """Per partition: the group's committed offset and the topic's end offset, at `at_ms`."""

    at_ms: int
    committed: Mapping[int, int]
    ends: Mapping[int, int]

    def lag(self) -> dict[int, int]:
        return {p: max(end - self.committed.get(p, 0), 0) for p, end in self.ends.items()}


class Stall(BaseModel):
    """A partition whose committed offset stood at `offset` for `duration_ms` with `lag`
    messages (at most) waiting; `ongoing` when it was still standing at the last sample."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    partition: int
    offset: int
    lag: int
    since_ms: int
    duration_ms: int
    ongoing: bool


@dataclass
class LagSeries:
    stall_ms: int
    grace_ms: int = DEFAULT_GRACE_MS
    samples: list[LagSample] = field(default_factory=list)

    def add(self, sample: LagSample) -> None:
        # In time order: the wind-down samples while the poller still samples too.
        bisect.insort(self.samples, sample, key=_at_ms)

    def lag_max(self) -> int | None:
        return max((sum(s.lag().values()) for s in self.samples), default=None)

    def caught_up(self, index: int) -> bool:
        """Whether at sample `index` the service had committed what was there `grace_ms` ago."""
        sample = self.samples[index]
        times = [s.at_ms for s in self.samples[: index + 1]]
        earlier = bisect.bisect_right(times, sample.at_ms - self.grace_ms) - 1
        if earlier < 0:
            return True  # too early to tell: nothing has waited `grace_ms` yet
        then = self.samples[earlier].ends
        return all(sample.committed.get(p, 0) >= end for p, end in then.items())

    def caught_up_now(self) -> bool:
        return not self.samples or self.caught_up(len(self.samples) - 1)

    def recovered_s(self, since_ms: int) -> float | None:
        if not self.samples:
            return None
        bad = [i for i in range(len(self.samples)) if not self.caught_up(i)]
        if not bad:
            return 0.0
        if bad[-1] == len(self.samples) - 1:
            return None
        first_good = self.samples[bad[-1] + 1].at_ms
        return max(first_good - since_ms, 0) / 1000

    def stalls(self) -> list[Stall]:
        """The longest stall of each partition that stalled, by partition."""
        found: dict[int, Stall] = {}
        partitions = sorted({p for s in self.samples for p in s.ends})
        for partition in partitions:
            start: LagSample | None = None
            worst = 0
            for sample in self.samples:
                waiting = sample.lag().get(partition, 0)
                offset = sample.committed.get(partition, 0)
                moved = start is None or start.committed.get(partition, 0) != offset
                if waiting == 0 or moved:
                    start, worst = (sample, waiting) if waiting > 0 else (None, 0)
                    continue
                worst = max(worst, waiting)
                assert start is not None
                duration = sample.at_ms - start.at_ms
                if duration >= self.stall_ms and duration > found.get(partition, _NONE).duration_ms:
                    ongoing = sample is self.samples[-1]
                    found[partition] = Stall(
                        partition=partition,
                        offset=offset,
                        lag=worst,
                        since_ms=start.at_ms,
                        duration_ms=duration,
                        ongoing=ongoing,
                    )
        return [found[p] for p in sorted(found)]

    def summary(self, group: str, topic: str, since_ms: int | None) -> ServiceProgress:
        """The report's `service` section; `since_ms` is the end of injection (None: none)."""
        recovered = None if since_ms is None else self.recovered_s(since_ms)
        return ServiceProgress(
            group=group,
            topic=topic,
            samples=len(self.samples),
            lag_max=self.lag_max(),
            recovered_s=recovered,
            caught_up=self.caught_up_now(),
            stalls=tuple(self.stalls()),
        )


class ServiceProgress(BaseModel):
    """The service's consumer group over the run: the `service.lag.*` metrics and stalls."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    group: str
    topic: str
    samples: int
    lag_max: int | None
    recovered_s: float | None
    caught_up: bool
    stalls: tuple[Stall, ...] = ()


_NONE = Stall(partition=-1, offset=0, lag=0, since_ms=0, duration_ms=-1, ongoing=False)


def _at_ms(sample: LagSample) -> int:
    return sample.at_ms
