"""The metric vocabulary that steady-state bounds and guardrails may name.

A metric is a dotted name resolved against a run's observations (see `chaosbus.runner.
observe`). Some exist only once a run is over (latency percentiles from the batch checker,
the time to recovery); guardrails are checked continuously, so they may name only metrics
that exist while the run is live. Keeping the vocabulary closed means a typo in a file is
an error at `validate` time, not a guardrail that silently never fires.
"""

from __future__ import annotations

from chaosbus.injectors.http.plan import HTTP_FAULT_TYPES
from chaosbus.injectors.plan import FAULT_TYPES
from chaosbus.monitors.anomalies import COUNT_NAMES
from chaosbus.monitors.retries import RETRY_ANOMALIES, RETRY_METRICS

# Sums across every check of the monitor (or one check, when a bound names it); the retry
# anomalies sum across the HTTP routes, and `anomalies.total` counts both sides.
ANOMALY_METRICS = (
    "anomalies.total",
    *(f"anomalies.{name}" for name in (*COUNT_NAMES, *RETRY_ANOMALIES)),
)
COVERAGE_METRICS = ("coverage.pending", "coverage.unobserved", "coverage.unledgered")
# Coverage of the whole source, known once the batch checker has run: `judged_share` is
# judged events over source events (unparsable ones included), `unparsable` their count.
FINAL_COVERAGE_METRICS = (
    "coverage.judged_share",
    "coverage.unparsable",
    "coverage.judged",
    "coverage.judged_events",
    "coverage.pending_events",
    "coverage.source_events",
    "coverage.events",
    "coverage.orphan_effects",
)
# `faults.injected` counts both sides; `faults.http.error` one HTTP fault type.
FAULT_METRICS = (
    "faults.injected",
    *(f"faults.{kind}" for kind in FAULT_TYPES),
    *(f"faults.http.{kind}" for kind in HTTP_FAULT_TYPES),
)

# Known live and at the end. Live latency comes from the runner's own first-sighting
# tracker over the last few seconds; at the end, from the batch checker over the run.
LIVE_METRICS = frozenset(
    {
        *ANOMALY_METRICS,
        *COVERAGE_METRICS,
        *FAULT_METRICS,
        *RETRY_METRICS,  # judged over the request log so far, on every tick
        "staleness.max_versions_behind",
        "latency_ms.p50",
        "latency_ms.p99",
        "held",
        # The service's consumer group (monitor.service_group): most messages waiting.
        "service.lag.max",
    }
)
# service.lag.recovered_s: from the end of injection until the group stayed caught up.
FINAL_ONLY_METRICS = frozenset(
    {"time_to_recovery_s", "service.lag.recovered_s", *FINAL_COVERAGE_METRICS}
)
SERVICE_METRICS = frozenset({"service.lag.max", "service.lag.recovered_s"})
METRICS = LIVE_METRICS | FINAL_ONLY_METRICS


def describe_known(live_only: bool) -> str:
    names = LIVE_METRICS if live_only else METRICS
    return ", ".join([*sorted(n for n in names if not n.startswith("anomalies.")), "anomalies.*"])
