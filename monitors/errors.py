"""Errors of the monitors' readers and probes (the pure checkers raise none).

    MonitorError             anything the monitors' I/O could not do
    ├── ProbeError           a downstream probe could not read the service's state
    └── ReaderError          a Kafka topic could not be read to its end offsets

Each carries `retriable`: True for a store or broker that did not answer (try the next
poll), False for a configuration or data problem that will not fix itself. Errors of the
client libraries are translated here with `raise ... from exc`.
"""

from __future__ import annotations


class MonitorError(Exception):
    def __init__(self, message: str, *, retriable: bool = False) -> None:
        super().__init__(message)
        self.retriable = retriable


class ProbeError(MonitorError):
    pass


class ReaderError(MonitorError):
    pass
