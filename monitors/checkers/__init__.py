"""Pure checkers: each judges one unit's facts and returns a `Finding`.

`JUDGES` maps a model name to its checker; the batch and live checkers dispatch through it.
"""

from __future__ import annotations

from collections.abc import Callable

from chaosbus.monitors.anomalies import Finding
from chaosbus.monitors.checkers.counter import judge_counter
from chaosbus.monitors.checkers.entity import judge_entity
from chaosbus.monitors.checkers.once import judge_once
from chaosbus.monitors.index import UnitFacts

Judge = Callable[[UnitFacts], Finding]

JUDGES: dict[str, Judge] = {
    "entity": judge_entity,
    "counter": judge_counter,
    "once": judge_once,
}

__all__ = ["JUDGES", "Judge", "judge_counter", "judge_entity", "judge_once"]
