"""The report fragment the monitors own: `anomalies`, `metrics` and `coverage`.

It matches ARCHITECTURE §4's report JSON; the runner adds status, hypotheses, faults, seed,
run id and timeline around it. Hypotheses address values by dotted path into this model,
e.g. `anomalies.counts.lost_event`, `anomalies.total`, `metrics.latency_ms.p99`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, computed_field, model_validator

from monitors.anomalies import PRECEDENCE, UNRECOVERED, Shown
from monitors.retries import RETRY_ANOMALIES


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AnomalyExample(_Frozen):
    """One bad unit: which events, what was expected and what was observed."""

    unit: str
    event_ids: tuple[str, ...]
    expected: Shown
    observed: Shown
    detail: str


class Anomalies(_Frozen):
    """Counts under every name in `COUNT_NAMES` (zeros included) and capped examples."""

    counts: dict[str, int]
    examples: dict[str, tuple[AnomalyExample, ...]]

    @model_validator(mode="before")
    @classmethod
    def _derived_fields_are_not_input(cls, data: Any) -> Any:
        """A report's own JSON carries `total` and `clean`; they are recomputed, not read."""
        if isinstance(data, dict) and ("total" in data or "clean" in data):
            return {k: v for k, v in data.items() if k not in ("total", "clean")}
        return data

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total(self) -> int:
        """Bad units; `unrecovered` and the drop counts are not added (see anomalies.py).

        A run with HTTP routes adds its retry anomalies (one per bad logical request, or
        one storm): a single total judges both sides (docs/decisions/0110)."""
        counted = (*PRECEDENCE, *RETRY_ANOMALIES)
        return sum(self.counts.get(name, 0) for name in counted)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def clean(self) -> bool:
        """No unit is wrong right now: the predicate time to recovery is measured on."""
        return self.counts.get(UNRECOVERED, 0) == 0


class Latency(_Frozen):
    """Source timestamp to first downstream sighting, in milliseconds."""

    p50: float | None = None
    p99: float | None = None
    count: int = 0


class Staleness(_Frozen):
    """How many versions the final state is behind the expected one, over judged entities."""

    max_versions_behind: int | None = None
    mean_versions_behind: float | None = None


class Metrics(_Frozen):
    latency_ms: Latency = Latency()
    staleness: Staleness = Staleness()
    time_to_recovery_s: float | None = None
    # The HTTP side's retry metrics, `retries.max_attempts` under `max_attempts`; a metric
    # with nothing to measure yet is absent. Empty without http_routes.
    retries: dict[str, float] = {}


class Coverage(_Frozen):
    """What the verdict rests on, so a clean result over nothing is visible as such."""

    source_deliveries: int = 0
    events: int = 0
    units: int = 0
    judged: int = 0
    pending: int = 0
    unobserved: int = 0
    unledgered: int = 0
    orphan_effects: int = 0
    unparsable: dict[str, int] = {}


class MonitorReport(_Frozen):
    model: str
    anomalies: Anomalies
    metrics: Metrics = Metrics()
    coverage: Coverage = Coverage()

    def with_recovery(self, time_to_recovery_s: float | None) -> MonitorReport:
        """The same report with the time to recovery the runner measured."""
        metrics = self.metrics.model_copy(update={"time_to_recovery_s": time_to_recovery_s})
        return self.model_copy(update={"metrics": metrics})
