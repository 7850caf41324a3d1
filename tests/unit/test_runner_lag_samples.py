"""The run's lag samples date the service's commits: a sample is dated when it was
answered, and the wind-down's samples are kept, so the final read counts as settled once
the service caught up (`monitors.consumed`)."""

from __future__ import annotations

from chaosbus.clients.connection import KafkaSettings
from chaosbus.experiment import parse_experiment
from chaosbus.monitors.lag import LagSample
from chaosbus.monitors.probes.group_lag import GroupLagReader
from chaosbus.monitors.probes.kind import ProbeContext
from chaosbus.runner.observation import LiveObservation

ANSWER_MS = 700  # how long the broker takes to answer one sample, on a loaded machine


class Clock:
    def __init__(self) -> None:
        self.now_ms = 1_000

    def __call__(self) -> int:
        return self.now_ms


class SlowLag(GroupLagReader):
    """Answers after `ANSWER_MS`: behind on the first sample, caught up on the second."""

    def __init__(self, clock: Clock) -> None:
        super().__init__(KafkaSettings("127.0.0.1:1"), "svc", "orders.out")
        self.clock = clock
        self.asked: list[int] = []

    async def sample(self, now_ms: int) -> LagSample:
        self.asked.append(now_ms)
        self.clock.now_ms += ANSWER_MS
        committed = 10 if len(self.asked) > 1 else 4
        return LagSample(now_ms, {0: committed}, {0: 10})


def observation(clock: Clock) -> LiveObservation:
    spec = parse_experiment(
        {
            "name": "slow-service",
            "hypothesis": "Every order keeps its newest version.",
            "routes": [{"from": "orders", "to": "orders.out"}],
            "seed": 1,
            "schedule": {"inject_s": 1},
            "faults": [{"type": "duplicate", "probability": 0.5}],
            "monitor": {
                "source_topic": "orders",
                "service_group": "svc",
                "poll_ms": 20,
                "checks": [
                    {
                        "name": "order-state",
                        "model": "entity",
                        "extract": {"event_id": {"json": "$.id"}, "version": {"json": "$.v"}},
                        "probe": {"key": "order:{entity}", "field": "version"},
                    }
                ],
            },
        }
    )
    probes = ProbeContext(KafkaSettings("127.0.0.1:1"), "redis://127.0.0.1:1")
    return LiveObservation(spec, run_id="r", probes=probes, clock=clock)


async def test_the_wind_downs_samples_are_kept_dated_when_answered() -> None:
    clock = Clock()
    live = observation(clock)
    lag = SlowLag(clock)
    live._lag = lag  # what `_open_lag` would have opened

    assert await live.wait_service_caught_up(timeout_s=5.0)

    assert live.collector.lag is not None
    samples = live.collector.lag.samples
    # Both kept; each dated by its answer, not by its question (commits seen by then).
    assert [s.at_ms for s in samples] == [t + ANSWER_MS for t in lag.asked]
    assert samples[-1].committed == {0: 10}
