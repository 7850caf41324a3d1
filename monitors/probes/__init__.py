"""Downstream probes and Kafka readers: the monitors' I/O, kept apart from the checkers.

A probe reads the service for given entities (state) or lists the effects it performed,
taking every value at the `now_ms` it is given; it never writes. Probes are async context
managers (they own a connection). A value the probe cannot read as a number is counted in
`unparsable` and left out, so the entity reads as unobserved rather than as absent.

Each kind (`redis`, `http`, `kafka`, `sql`) is one registered thing: its config model,
its shape and how to open it (`monitors.probes.kind`), listed in `monitors.probes.registry`.
"""

from chaosbus.monitors.probes.kind import (
    EffectsListing,
    ProbeContext,
    ProbeKind,
    ProbeReader,
    Reading,
    Shape,
    StateProbe,
)

__all__ = [
    "EffectsListing",
    "ProbeContext",
    "ProbeKind",
    "ProbeReader",
    "Reading",
    "Shape",
    "StateProbe",
]
