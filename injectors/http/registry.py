"""Every HTTP fault, in one explicit list, as `injectors.registry` is for topic faults.

Importing this module imports the HTTP fault modules and nothing else happens. Derived from
it: `HTTP_INJECTORS` (by name), `HTTP_FAULT_TYPES` (in the order the faults were added: the
order of counts and metrics) and `HTTP_FAULT_CONFIGS`, from which `injectors.http.spec`
builds the `HttpFault` union.

Adding an HTTP fault: write its module (config, `act`, `FAULT`), add it below and export
its config from `chaosbus.injectors.http`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from chaosbus.injectors.http import duplicate, error, hang, latency, reset, truncate
from chaosbus.injectors.http.action import HttpInjector
from chaosbus.injectors.http.base import HttpFaultConfig

_FAULTS: tuple[HttpInjector[Any], ...] = (
    latency.FAULT,
    error.FAULT,
    hang.FAULT,
    reset.FAULT,
    truncate.FAULT,
    duplicate.FAULT,
)

HTTP_INJECTORS: Mapping[str, HttpInjector[Any]] = MappingProxyType({f.name: f for f in _FAULTS})
if len(HTTP_INJECTORS) != len(_FAULTS):  # pragma: no cover - a mistake in the list above
    raise AssertionError("two HTTP fault modules declare the same type")
HTTP_FAULT_TYPES: tuple[str, ...] = tuple(HTTP_INJECTORS)
HTTP_FAULT_CONFIGS: tuple[type[HttpFaultConfig], ...] = tuple(f.config for f in _FAULTS)
