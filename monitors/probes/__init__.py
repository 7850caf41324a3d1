"""Downstream probes and Kafka readers: the monitors' I/O, kept apart from the checkers.

A probe reads the service's state for given entities and returns one `Observation` each,
taken at the `now_ms` it is given; it never writes. Probes are async context managers
(they own a connection) with one method, `observe`. A value the probe cannot read as a
number is counted in `unparsable` and left out, so the entity reads as unobserved rather
than as absent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from chaosbus.monitors.history import Observation


class Probe(Protocol):
    unparsable: int

    async def observe(self, entities: Sequence[str], now_ms: int) -> list[Observation]:
        """One observation per readable entity, taken at `now_ms`; None means absent."""
        ...


__all__ = ["Probe"]
