"""Every topic fault, in one explicit list: the one place that says which faults exist.

Each entry is the `FAULT` of one fault module (its shape: `injectors.injector`). Importing this
module imports those modules and nothing else happens: no registration by side effect, no
plugin discovery. Everything that needs the list of faults derives it from here:

* `INJECTORS` (by name) and `FAULT_TYPES`, in the order the faults were added (the order of
  counts, metrics and reports); `COUNT_KEYS`, the keys of a plan's counts;
* `FAULT_CONFIGS`, from which `injectors.spec` builds the `Fault` union;
* the plan's capabilities, the garbage variants (`monitors.index`), the sentences of causes
  (`monitors.causes`) and the copies of hand-written ledgers (`monitors.testing`).

Adding a fault: write its module (config, `apply`, capabilities, `explain`, `FAULT`), add
it below and export its config from `chaosbus.injectors`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from chaosbus.injectors import (
    corrupt,
    delay,
    drop,
    duplicate,
    outage,
    reorder,
    replay,
    schema_drift,
    stall,
)
from chaosbus.injectors.base import FaultConfig
from chaosbus.injectors.injector import Injector

_FAULTS: tuple[Injector[Any, Any], ...] = (
    duplicate.FAULT,
    reorder.FAULT,
    delay.FAULT,
    drop.FAULT,
    corrupt.FAULT,
    schema_drift.FAULT,
    replay.FAULT,
    outage.FAULT,
    stall.FAULT,
)

INJECTORS: Mapping[str, Injector[Any, Any]] = MappingProxyType({f.name: f for f in _FAULTS})
if len(INJECTORS) != len(_FAULTS):  # pragma: no cover - a mistake in the list above
    raise AssertionError("two fault modules declare the same type")
FAULT_TYPES: tuple[str, ...] = tuple(INJECTORS)
COUNT_KEYS: tuple[str, ...] = ("pass", *FAULT_TYPES, "non_json")
FAULT_CONFIGS: tuple[type[FaultConfig], ...] = tuple(f.config for f in _FAULTS)
