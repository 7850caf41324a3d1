"""chaosbus: monitors - the verdict on a downstream service under injected faults.

Pure part: extractors read source messages into `SourceEvent`s; models compute the
expected downstream state; `check` judges a whole `History` and `LiveChecker` judges one
fact at a time; both return a `MonitorReport` (ARCHITECTURE §4's `anomalies`, `metrics`
and a `coverage` section). Anomaly names and their precedence live in `monitors.anomalies`;
each example's `Cause` (ledger decisions and a one-line mechanism) comes from
`monitors.causes`.

Errors (of the readers and probes; the pure checkers raise none; the client libraries'
errors translated at this boundary with `raise ... from exc`, each with `retriable`)::

    MonitorError             anything the monitors' I/O could not do
    ├── ProbeError           a downstream probe could not read the service's state
    └── ReaderError          a Kafka topic could not be read to its end offsets
"""

from chaosbus.monitors.anomalies import ANOMALY_NAMES, COUNT_NAMES, PRECEDENCE
from chaosbus.monitors.check import check
from chaosbus.monitors.config import MonitorConfig
from chaosbus.monitors.extractors import (
    Extractor,
    ExtractorConfig,
    HeaderField,
    JsonEquals,
    JsonField,
    compile_extractors,
)
from chaosbus.monitors.history import Coordinates, Effect, History, Number, Observation, SourceEvent
from chaosbus.monitors.live import LiveChecker
from chaosbus.monitors.metrics import LatencyRecorder, time_to_recovery
from chaosbus.monitors.report import (
    Anomalies,
    AnomalyExample,
    Cause,
    Coverage,
    Latency,
    LedgerDecision,
    Metrics,
    MonitorReport,
    Staleness,
)

__all__ = [
    "ANOMALY_NAMES",
    "COUNT_NAMES",
    "PRECEDENCE",
    "Anomalies",
    "AnomalyExample",
    "Cause",
    "Coordinates",
    "Coverage",
    "Effect",
    "Extractor",
    "ExtractorConfig",
    "HeaderField",
    "History",
    "JsonEquals",
    "JsonField",
    "Latency",
    "LatencyRecorder",
    "LedgerDecision",
    "LiveChecker",
    "Metrics",
    "MonitorConfig",
    "MonitorReport",
    "Number",
    "Observation",
    "SourceEvent",
    "Staleness",
    "check",
    "compile_extractors",
    "time_to_recovery",
]
