"""What the runner reports on every tick, for a terminal (or any other) progress display."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Progress:
    phase: str
    elapsed_s: float
    faults: int
    anomalies: int
    held: int
    forwarded: int
    intensity: float
    read_failures: int = 0  # failed reads of the probes and the lag so far (monitors.reads)
