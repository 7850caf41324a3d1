"""The report fragment the monitors own: `anomalies`, `metrics` and `coverage`.

It matches ARCHITECTURE §4's report JSON; the runner adds status, hypotheses, faults, seed,
run id and timeline around it. Hypotheses address values by dotted path into this model,
e.g. `anomalies.counts.lost_event`, `anomalies.total`, `metrics.latency_ms.p99`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, computed_field, model_validator

from chaosbus.monitors.anomalies import BAD_NAMES, UNRECOVERED, Shown
from chaosbus.monitors.history import Number
from chaosbus.monitors.retries import RETRY_ANOMALIES


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LedgerDecision(_Frozen):
    """One ledger decision about an event involved in an anomaly, one row per emission.

    `source` is the source message (`topic:partition:offset`); `partition`/`offset` are
    where the copy landed downstream. A drop is one row with no copy. `actual_delay_ms` is
    the produce time minus the source timestamp, when the ledger has both.
    """

    event_id: str
    version: Number | None = None
    source: str
    fault: str
    fault_name: str | None = None
    copy_number: int | None = None
    planned_delay_ms: int | None = None
    actual_delay_ms: int | None = None
    partition: int | None = None
    offset: int | None = None
    sent_at_ms: int | None = None
    decided_at_ms: int
    trace_id: str | None = None


class Cause(_Frozen):
    """Why an anomaly happened: the mechanism in one line, and the decisions it rests on.

    `at_ms` is when the mechanism completed (the last involved copy was produced): the
    example's point on a timeline. `faulted` is False when no fault touched the events.
    """

    mechanism: str
    faulted: bool
    at_ms: int | None = None
    decisions: tuple[LedgerDecision, ...] = ()


class AnomalyExample(_Frozen):
    """One bad unit: which events, what was expected and what was observed, and why."""

    unit: str
    event_ids: tuple[str, ...]
    expected: Shown
    observed: Shown
    detail: str
    cause: Cause | None = None


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
        return sum(self.counts.get(name, 0) for name in (*BAD_NAMES, *RETRY_ANOMALIES))

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
    """What the verdict rests on, so a clean result over nothing is visible as such.

    `events` are the distinct events read; `source_events` adds the messages no extractor
    could read (`unparsable`, by the extractor that failed: one per message), because each
    of those is an event the verdict could not judge. `judged_events` are the events of the
    units that were judged, `pending_events` those of units still settling when the window
    closed: too recent to judge, whatever the service does, so they are left out of the
    share. `judged_share` is judged events over the source events not pending, the figure
    a verdict needs before it may say `held`.
    """

    source_deliveries: int = 0
    events: int = 0
    source_events: int = 0
    units: int = 0
    judged: int = 0
    judged_events: int = 0
    pending: int = 0
    pending_events: int = 0
    unobserved: int = 0
    unledgered: int = 0
    orphan_effects: int = 0
    unparsable: dict[str, int] = {}
    # Not the check's events (its `where` left them out): neither judged nor in the share.
    outside_where: int = 0
    # Judged events with no amount (counter): they add nothing to their total.
    without_amount: int = 0

    @model_validator(mode="before")
    @classmethod
    def _derived_fields_are_not_input(cls, data: Any) -> Any:
        """A report's own JSON carries `judged_share`; it is recomputed, not read."""
        if isinstance(data, dict) and "judged_share" in data:
            return {k: v for k, v in data.items() if k != "judged_share"}
        return data

    @computed_field  # type: ignore[prop-decorator]
    @property
    def judged_share(self) -> float | None:
        """Judged events over the source events not pending; None when there are none."""
        due = self.source_events - self.pending_events
        if due <= 0:
            return None
        return self.judged_events / due

    @property
    def unparsable_total(self) -> int:
        return sum(self.unparsable.values())

    def notes(self) -> list[str]:
        """What the check's declaration left out or read as nothing, in words (each
        renderer prints them under its coverage table)."""
        notes = []
        if self.outside_where:
            notes.append(
                f"{self.outside_where} source messages outside `where`: not this check's "
                "events, neither judged nor in its share"
            )
        if self.without_amount:
            notes.append(
                f"{self.without_amount} events without an amount: judged, each adding nothing"
            )
        return notes


class MonitorReport(_Frozen):
    model: str
    anomalies: Anomalies
    metrics: Metrics = Metrics()
    coverage: Coverage = Coverage()

    def with_recovery(self, time_to_recovery_s: float | None) -> MonitorReport:
        """The same report with the time to recovery the runner measured."""
        metrics = self.metrics.model_copy(update={"time_to_recovery_s": time_to_recovery_s})
        return self.model_copy(update={"metrics": metrics})
