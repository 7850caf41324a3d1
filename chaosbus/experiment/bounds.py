"""Bounds on metrics: steady-state conditions and guardrails.

A bound holds when the metric's observed value is within `[min, max]` (either may be
omitted, not both). A metric with no value yet (no latency sample, say) does not breach a
guardrail, and is reported as unknown in a steady-state check rather than as held.
"""

from __future__ import annotations

from typing import Self

from pydantic import ConfigDict, field_validator, model_validator
from pydantic_core import PydanticCustomError

from chaosbus.experiment.metrics import LIVE_METRICS, METRICS, describe_known
from chaosbus.injectors.limits import Name, Seconds, SpecModel


class Bound(SpecModel):
    # Finite bounds only (SpecModel): `max: .nan` would hold whatever is observed.
    model_config = ConfigDict(populate_by_name=True)

    metric: Name
    max: float | None = None
    min: float | None = None
    check: Name | None = None  # one check of the monitor; omitted: summed over all
    name: Name | None = None

    @field_validator("metric")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in METRICS:
            raise PydanticCustomError(
                "unknown_metric",
                "unknown metric '{metric}' (known: {known})",
                {"metric": value, "known": describe_known(live_only=False)},
            )
        return value

    @model_validator(mode="after")
    def _bounded(self) -> Self:
        if self.max is None and self.min is None:
            raise PydanticCustomError("bound", "needs max, min or both")
        if self.max is not None and self.min is not None and self.min > self.max:
            raise PydanticCustomError("bound", "min is above max")
        return self

    @property
    def label(self) -> str:
        return self.name or (f"{self.check}.{self.metric}" if self.check else self.metric)

    @property
    def threshold(self) -> str:
        """The bound as a person reads it: `≤ 0`, `≥ 10`, `in [1, 5]`."""
        if self.min is None:
            return f"≤ {_number(self.max)}"
        if self.max is None:
            return f"≥ {_number(self.min)}"
        return f"in [{_number(self.min)}, {_number(self.max)}]"

    def holds(self, observed: float | None) -> bool | None:
        if observed is None:
            return None
        if self.max is not None and observed > self.max:
            return False
        return not (self.min is not None and observed < self.min)


class Guardrail(Bound):
    """Aborts the run when breached continuously for `for_s` seconds (0: at once)."""

    for_s: Seconds = 0.0

    @field_validator("metric")
    @classmethod
    def _live(cls, value: str) -> str:
        if value not in LIVE_METRICS:
            raise PydanticCustomError(
                "not_live",
                "metric '{metric}' is known only at the end of a run (live: {known})",
                {"metric": value, "known": describe_known(live_only=True)},
            )
        return value


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
