"""The fault mixes the benchmarks share: what "faults-on" means in every figure they print."""

from __future__ import annotations

from typing import Any

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
