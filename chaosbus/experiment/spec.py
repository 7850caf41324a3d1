"""The experiment file: a hypothesis, the faults that test it, and the bounds that judge it.

Models are frozen and reject unknown keys. Faults and the blast radius are the fault
schema of `injectors.spec`, unchanged; the monitor section builds `monitors.MonitorConfig`s.
Problems surface through `chaosbus.experiment.loader` as one line per problem naming its
path, e.g. ``faults[1].distribution.max_ms: must be ≥ min_ms (100)``.

Example::

    name: duplicate-storm
    hypothesis: Every payment is counted once even when the automation retries.
    routes: [{from: orders.nocode, to: orders}]
    seed: 42
    schedule: {warmup_s: 5, inject_s: 20, recover_s: 10, ramp: {steps: 4}}
    faults: [{type: duplicate, probability: 0.3, copies: 2}]
    monitor:
      source_topic: orders.nocode
      checks:
        - {name: paid, model: counter, extract: {...}, probe: {key: "customer:{entity}:paid"}}
    steady_state: [{metric: anomalies.total, max: 0}]
    guardrails: [{metric: held, max: 10000, for_s: 2}]
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from chaosbus.experiment.bounds import Bound, Guardrail
from chaosbus.experiment.monitor import MonitorSpec
from injectors.spec import BlastRadius, Fault


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class DeadLetter(_Spec):
    """`on_undeliverable: {dead_letter: TOPIC}`; `fail` (the default) is no dead letter."""

    dead_letter: str | None = Field(default=None, min_length=1)


class RouteSpec(_Spec):
    source: str = Field(alias="from", min_length=1)
    destination: str = Field(alias="to", min_length=1)
    # Pins what decisions are keyed on (default: the source topic), so a run replays
    # decision for decision on a topic of another name.
    id: str | None = Field(default=None, min_length=1)
    on_undeliverable: DeadLetter = Field(default_factory=DeadLetter)

    @field_validator("on_undeliverable", mode="before")
    @classmethod
    def _fail_is_the_default(cls, value: object) -> object:
        return {} if value == "fail" else value

    @model_validator(mode="after")
    def _not_into_itself(self) -> Self:
        if self.source == self.destination:
            raise PydanticCustomError("route_loop", "from and to are the same topic")
        return self


class Ramp(_Spec):
    """Injection grows in `steps` equal slices, intensity from `start` up to 1."""

    steps: int = Field(ge=2, le=100, strict=True)
    start: float | None = Field(default=None, gt=0.0, le=1.0)

    def intensities(self) -> list[float]:
        first = self.start if self.start is not None else 1.0 / self.steps
        step = (1.0 - first) / (self.steps - 1)
        return [round(min(first + i * step, 1.0), 6) for i in range(self.steps)]


class Schedule(_Spec):
    warmup_s: float = Field(default=5.0, ge=0.0)
    inject_s: float = Field(gt=0.0)
    recover_s: float = Field(default=10.0, ge=0.0)
    ramp: Ramp | None = None


class ExperimentSpec(_Spec):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    hypothesis: str = Field(min_length=10)
    description: str | None = None
    routes: tuple[RouteSpec, ...] = Field(min_length=1)
    faults: tuple[Fault, ...] = Field(min_length=1)
    seed: int = Field(strict=True)
    schedule: Schedule
    blast_radius: BlastRadius = BlastRadius()
    monitor: MonitorSpec
    steady_state: tuple[Bound, ...] = ()
    guardrails: tuple[Guardrail, ...] = ()
    # The interposer's consumer group: a later run resumes where this one committed.
    group_id: str = "chaosbus.run"

    @field_validator("hypothesis")
    @classmethod
    def _a_sentence(cls, value: str) -> str:
        if not value.strip().endswith((".", "!")):
            raise PydanticCustomError("hypothesis", "must be a sentence ending with a period")
        return value.strip()

    @field_validator("faults")
    @classmethod
    def _unique_fault_names(cls, faults: tuple[Fault, ...]) -> tuple[Fault, ...]:
        names = [f.name for f in faults if f.name is not None]
        for index, name in enumerate(names):
            if name in names[:index]:
                raise PydanticCustomError(
                    "duplicate_name", "fault name '{name}' used twice", {"name": name}
                )
        return faults

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        sources = [r.source for r in self.routes]
        if len(set(sources)) != len(sources):
            raise _at("routes", "a source topic may feed only one route")
        for index, route in enumerate(self.routes):
            for key, topic in (("from", route.source), ("to", route.destination)):
                glob = _protecting(self.blast_radius, topic)
                if glob is not None:
                    raise _at(f"routes[{index}].{key}", f"topic {topic!r} is protected ({glob})")
        if self.monitor.source_topic not in sources:
            raise _at("monitor.source_topic", "must be the source (from) of a route")
        names = {c.name for c in self.monitor.checks}
        sections = (("steady_state", self.steady_state), ("guardrails", self.guardrails))
        for section, bounds in sections:
            for index, bound in enumerate(bounds):
                if bound.check is not None and bound.check not in names:
                    raise _at(
                        f"{section}[{index}].check",
                        f"no check named {bound.check!r} (known: {', '.join(sorted(names))})",
                    )
        return self

    @property
    def duration_s(self) -> float:
        s = self.schedule
        return s.warmup_s + s.inject_s + s.recover_s + self.monitor.settle_ms / 1000


def _protecting(blast: BlastRadius, topic: str) -> str | None:
    return next((g for g in blast.protected_topics if fnmatchcase(topic, g)), None)


class LocatedError(ValueError):
    """A cross-field problem that knows the path it belongs to (see the loader)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path


def _at(path: str, message: str) -> LocatedError:
    return LocatedError(path, message)
