"""What the benchmarks share: the faults-on mix, and when an interposer is done with a run."""

from __future__ import annotations

from typing import Any

from chaosbus.injectors import FAULT_TYPES
from chaosbus.streams.interposer import RouteInterposer

# The faults issue's mix: duplicate 10 %, delay 10 % uniform 0-500 ms, reorder window 10,
# drop 1 %.
FAULTS_ON: dict[str, Any] = {
    "faults": [
        {"type": "drop", "probability": 0.01},
        {"type": "duplicate", "probability": 0.1},
        {
            "type": "delay",
            "probability": 0.1,
            "distribution": {"kind": "uniform", "min_ms": 0, "max_ms": 500},
            "preserve_order": False,
        },
        {"type": "reorder", "probability": 0.1, "window": 10},
    ]
}

# Every decision a plan can make: a pass or one of the fault types.
DECISIONS = ("pass", *FAULT_TYPES)


def settled(interposer: RouteInterposer, count: int) -> bool:
    """Every one of `count` messages decided, and nothing in flight but what faults hold:
    a stop then drains the rest, inside the measured time."""
    decided = sum(interposer.counts[name] for name in DECISIONS)
    return decided >= count and interposer.in_flight <= interposer.held
