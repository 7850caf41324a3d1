"""The run's timeline: samples taken every tick, folded into one point per second."""

from __future__ import annotations

from dataclasses import dataclass

from chaosbus.report.model import PhaseSpan, TimelinePoint
from chaosbus.runner.latency import LiveLatency


@dataclass(frozen=True, slots=True)
class Sample:
    at_ms: int
    phase: str
    faults: int  # cumulative injected faults
    forwarded: int  # cumulative decisions of any kind
    anomalies: int  # live count of bad units at that moment
    held: int
    intensity: float
    http_faults: int = 0  # cumulative HTTP faults injected
    http_requests: int = 0  # cumulative requests the HTTP proxies received


class Timeline:
    def __init__(self, started_ms: int) -> None:
        self.started_ms = started_ms
        self.samples: list[Sample] = []
        self.phases: list[tuple[str, int, int | None]] = []

    def enter(self, phase: str, now_ms: int) -> None:
        if self.phases and self.phases[-1][2] is None:
            name, start, _ = self.phases[-1]
            self.phases[-1] = (name, start, now_ms)
        self.phases.append((phase, now_ms, None))

    @property
    def phase(self) -> str:
        return self.phases[-1][0] if self.phases else "preflight"

    def close(self, now_ms: int) -> None:
        if self.phases and self.phases[-1][2] is None:
            name, start, _ = self.phases[-1]
            self.phases[-1] = (name, start, now_ms)

    def spans(self) -> list[PhaseSpan]:
        return [
            PhaseSpan(name=name, start_s=self._s(start), end_s=self._s(end if end else start))
            for name, start, end in self.phases
        ]

    def points(self, latency: LiveLatency) -> list[TimelinePoint]:
        """One point per second: rates from the last sample of each second."""
        last_of_second: dict[int, Sample] = {}
        for sample in self.samples:
            last_of_second[(sample.at_ms - self.started_ms) // 1000] = sample
        points: list[TimelinePoint] = []
        previous: Sample | None = None
        for second in sorted(last_of_second):
            sample = last_of_second[second]
            start = self.started_ms + second * 1000
            window = latency.window(start, start + 1000)
            points.append(
                TimelinePoint(
                    t_s=float(second),
                    phase=sample.phase,
                    faults_per_s=float(sample.faults - (previous.faults if previous else 0)),
                    forwarded_per_s=float(
                        sample.forwarded - (previous.forwarded if previous else 0)
                    ),
                    anomalies=sample.anomalies,
                    anomalies_per_s=float(
                        max(sample.anomalies - (previous.anomalies if previous else 0), 0)
                    ),
                    latency_p99_ms=window.p99,
                    held=sample.held,
                    intensity=sample.intensity,
                    http_faults_per_s=float(
                        sample.http_faults - (previous.http_faults if previous else 0)
                    ),
                    http_requests_per_s=float(
                        sample.http_requests - (previous.http_requests if previous else 0)
                    ),
                )
            )
            previous = sample
        return points

    def _s(self, at_ms: int) -> float:
        return round((at_ms - self.started_ms) / 1000, 3)
