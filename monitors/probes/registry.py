"""Every probe kind an experiment file may name, by `kind`: the one list its readers use.

The experiment's `probe` union, the list of kinds in its error messages, which models a
probe fits (state or effects) and how the runner opens a check's probe all come from here.
A new kind is a module declaring `KIND = ProbeKind(...)` (see `monitors.probes.kind`) and
its line below.
"""

from __future__ import annotations

from typing import Any, Protocol

from chaosbus.monitors.probes import http_probe, kafka_reader, redis_probe, sql_probe
from chaosbus.monitors.probes.kind import OpenedReader, ProbeContext, ProbeKind, Shape

# In the order a file's error message names them; `redis` first, the default.
PROBE_KINDS: dict[str, ProbeKind[Any]] = {
    kind.name: kind
    for kind in (redis_probe.KIND, http_probe.KIND, kafka_reader.KIND, sql_probe.KIND)
}
# A probe without `kind` reads Redis: files written before there were other kinds.
DEFAULT_KIND = "redis"


class ProbeSettings(Protocol):
    """A probe's config, of whichever kind (every kind's config model has its `kind`)."""

    @property
    def kind(self) -> str: ...


def kind_of(config: ProbeSettings) -> ProbeKind[Any]:
    return PROBE_KINDS[config.kind]


def shape_of(config: ProbeSettings) -> Shape:
    """`state`, `listing` or `topic`: how this probe reads the service."""
    return kind_of(config).shape(config)


def reads_effects(config: ProbeSettings) -> bool:
    """Whether the probe reads effects that name their events, rather than state."""
    return shape_of(config) != "state"


def open_probe(config: ProbeSettings, context: ProbeContext) -> OpenedReader:
    """The probe's reader, to enter with `async with`."""
    return kind_of(config).open(config, context)
