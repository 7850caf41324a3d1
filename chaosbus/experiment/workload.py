"""`workload:`: traffic the run itself writes to a route's source, from the injection on.

    workload: {replay: recordings/orders.cbt, speed: 2}      # a recording, at twice its pace
    workload: {replay: recordings/orders.cbt, rate: 200, loop: true, shift_ids: true}
    workload: {generate: orders.traffic.yaml}                # a traffic spec (docs/traffic.md)

Paths are relative to the directory `chaosbus run` is started in. `to` defaults to the
monitor's source topic and must be the source of a route, so the traffic passes the
interposer. The files are read when the run is set up; the traffic starts when the injection
does and stops at the end of the recovery, whatever is left unsent (chaosbus.traffic.workload).
"""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from chaosbus.injectors.limits import MAX_PATTERN, MAX_TOPIC, SpecModel

MAX_SPEED = 1_000_000.0


class WorkloadSpec(SpecModel):
    replay: str | None = Field(default=None, min_length=1, max_length=MAX_PATTERN)
    generate: str | None = Field(default=None, min_length=1, max_length=MAX_PATTERN)
    speed: float | None = Field(default=None, gt=0, le=MAX_SPEED)
    rate: float | None = Field(default=None, gt=0, le=10_000_000)
    loop: bool = False
    shift_ids: bool = False
    to: str | None = Field(default=None, min_length=1, max_length=MAX_TOPIC)

    @model_validator(mode="after")
    def _one_source_one_pace(self) -> Self:
        if (self.replay is None) == (self.generate is None):
            raise PydanticCustomError("workload", "give replay (a recording) or generate (a spec)")
        if self.speed is not None and self.rate is not None:
            raise PydanticCustomError("workload", "give speed or rate, not both")
        return self
