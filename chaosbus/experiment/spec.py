"""The experiment file: a hypothesis, the faults that test it, and the bounds that judge it.

Models are frozen and reject unknown keys. Faults and the blast radius are the fault
schema of `injectors.spec`, unchanged; the monitor section builds `monitors.MonitorConfig`s.
Every number is finite and within `injectors.limits` (docs/limits.md); routes never read or
write chaosbus's own topics and never form a cycle (`injectors.protection`). Problems
surface through `chaosbus.experiment.loader` as one line per problem naming its
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
    internal_topics: {replication_factor: 3, ledger_retention_ms: 86400000}
    tier: smoke        # smoke (≤ 2 min) | standard (≤ 15 min, the default) | deep
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from chaosbus.contracts.routes import RouteProblem, route_problem
from chaosbus.experiment.bounds import Bound, Guardrail
from chaosbus.experiment.governance import Approvals, Privacy, Webhook
from chaosbus.experiment.http_routes import HttpRouteSpec, both_sides_problem
from chaosbus.experiment.metrics import SERVICE_METRICS
from chaosbus.experiment.monitor import MonitorSpec
from chaosbus.experiment.workload import WorkloadSpec
from chaosbus.injectors.limits import (
    MAX_DURATION_S,
    MAX_LIST,
    MAX_TOPIC,
    Name,
    Seconds,
    Seed,
    SpecModel,
    Text,
)
from chaosbus.injectors.protection import own_topic_problem, topic_name_problem
from chaosbus.injectors.spec import BlastRadius, Fault, holding_problem, unique_names
from chaosbus.injectors.validation import LocatedError
from chaosbus.platforms.presets import PresetUse

Tier = Literal["smoke", "standard", "deep"]
# The longest schedule each tier allows (warm-up + injection + recovery + settle); `deep`
# has no limit. What the tiers mean for a team: docs/ci.md ("Suites by tier").
TIER_MAX_S: dict[str, float] = {"smoke": 120.0, "standard": 900.0}
DEAD_LETTER_PATH = "on_undeliverable.dead_letter"


class _Spec(SpecModel):
    model_config = ConfigDict(populate_by_name=True)  # merged with SpecModel's


def _topic_name(value: str) -> str:
    problem = topic_name_problem(value)
    if problem is not None:
        raise PydanticCustomError("topic_name", problem)
    return value


TopicName = Annotated[str, Field(min_length=1, max_length=MAX_TOPIC), AfterValidator(_topic_name)]


def _not_own(value: str) -> str:
    problem = own_topic_problem(value)
    if problem is not None:
        raise PydanticCustomError("own_topic", problem)
    return value


RouteTopic = Annotated[TopicName, AfterValidator(_not_own)]


class DeadLetter(_Spec):
    """`on_undeliverable: {dead_letter: TOPIC}`; `fail` (the default) is no dead letter.
    The topic is one the route writes: the checks of a route's topics apply to it."""

    dead_letter: RouteTopic | None = None


class RouteSpec(_Spec):
    source: RouteTopic = Field(alias="from")
    destination: RouteTopic = Field(alias="to")
    # Pins what decisions are keyed on (default: the source topic), so a run replays
    # decision for decision on a topic of another name.
    id: Name | None = Field(default=None, min_length=1)
    on_undeliverable: DeadLetter = Field(default_factory=DeadLetter)

    @field_validator("on_undeliverable", mode="before")
    @classmethod
    def _fail_is_the_default(cls, value: object) -> object:
        return {} if value == "fail" else value

    @model_validator(mode="after")
    def _not_into_itself(self) -> Self:
        problem = route_problem([(self.source, self.destination)])
        if problem is not None and problem.kind == "same_topic":
            raise PydanticCustomError("route_loop", "from and to are the same topic")
        return self

    @property
    def dead_letter(self) -> str | None:
        return self.on_undeliverable.dead_letter


class Ramp(_Spec):
    """Injection grows in `steps` equal slices, intensity from `start` up to 1."""

    steps: int = Field(ge=2, le=100, strict=True)
    start: float | None = Field(default=None, gt=0.0, le=1.0)

    def intensities(self) -> list[float]:
        first = self.start if self.start is not None else 1.0 / self.steps
        step = (1.0 - first) / (self.steps - 1)
        return [round(min(first + i * step, 1.0), 6) for i in range(self.steps)]


class Schedule(_Spec):
    warmup_s: Seconds = 5.0
    inject_s: float = Field(gt=0.0, le=MAX_DURATION_S)
    recover_s: Seconds = 10.0
    ramp: Ramp | None = None


class InternalTopics(_Spec):
    """How the run creates the topics it owns (README "Internal topics"); unset fields are
    the broker's defaults (replication) or chaosbus's (a ledger retention of 7 days)."""

    replication_factor: int | None = Field(default=None, ge=1, strict=True)
    ledger_retention_ms: int | None = Field(default=None, ge=-1, strict=True)
    min_insync_replicas: int | None = Field(default=None, ge=1, strict=True)

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        if self.ledger_retention_ms == 0:
            raise _at("internal_topics.ledger_retention_ms", "must be > 0, or -1 (forever)")
        rf, isr = self.replication_factor, self.min_insync_replicas
        if rf is not None and isr is not None and isr > rf:
            raise _at(
                "internal_topics.min_insync_replicas",
                f"{isr} exceeds replication_factor {rf}: every write would be refused",
            )
        return self


class ExperimentSpec(_Spec):
    name: Name = Field(
        pattern=r"^[A-Za-z0-9_.-]+$", description="Names the experiment in reports and history."
    )
    hypothesis: Text = Field(
        min_length=10,
        description="What a correct service keeps under the faults: one sentence.",
        examples=["Every payment is counted once even when the automation retries."],
    )
    description: Text | None = None
    # Topic routes and their faults; an HTTP-only experiment has neither (decision 0110).
    routes: tuple[RouteSpec, ...] = Field(
        default=(),
        max_length=MAX_LIST,
        description="Where the interposer sits: it reads `from` and writes `to`, the topic "
        "the service reads.",
        examples=[[{"from": "orders.nocode", "to": "orders"}]],
    )
    faults: tuple[Fault, ...] = Field(
        default=(),
        max_length=MAX_LIST,
        description="What is done to the messages (docs/faults.md).",
    )
    seed: Seed = Field(description="Seeds every fault decision: the same seed, the same faults.")
    schedule: Schedule = Field(
        description="Seconds of warm-up, injection and recovery.",
        examples=[{"warmup_s": 5, "inject_s": 20, "recover_s": 10}],
    )
    blast_radius: BlastRadius = Field(
        default=BlastRadius(), description="Caps on what the faults may touch."
    )
    # Required with topic routes; an HTTP-only experiment leaves it out (no checks).
    monitor: MonitorSpec = Field(
        default=MonitorSpec.model_validate({"source_topic": "", "checks": []}),
        description="The source of truth and the checks judged against it (docs/experiments.md).",
    )
    steady_state: tuple[Bound, ...] = Field(
        default=(),
        max_length=MAX_LIST,
        description="Bounds the hypothesis is judged by, before injection and after recovery.",
        examples=[[{"metric": "anomalies.total", "max": 0}]],
    )
    guardrails: tuple[Guardrail, ...] = Field(
        default=(), max_length=MAX_LIST, description="Bounds that abort the run when breached."
    )
    # The interposer's consumer group: a later run resumes where this one committed.
    group_id: Name = Field(default="chaosbus.run", min_length=1)
    internal_topics: InternalTopics = InternalTopics()
    # Governance (chaosbus.experiment.governance): sign-offs bound to the file, webhooks.
    approvals: Approvals | None = None
    notify: tuple[Webhook, ...] = Field(default=(), max_length=16)
    privacy: Privacy = Privacy()
    # Reverse proxies in front of the services the automation calls (http_routes.py).
    http_routes: tuple[HttpRouteSpec, ...] = Field(default=(), max_length=MAX_LIST)
    # Traffic the run writes itself from the injection on (experiment/workload.py).
    workload: WorkloadSpec | None = None
    # Which suites run it (`chaosbus suite --tier`); none: `standard`. See TIER_MAX_S.
    tier: Tier | None = None
    # Written by the loader when `faults` name platform presets (chaosbus.platforms.presets).
    platform_presets: tuple[PresetUse, ...] = Field(default=(), max_length=MAX_LIST)

    @field_validator("hypothesis")
    @classmethod
    def _a_sentence(cls, value: str) -> str:
        if not value.strip().endswith((".", "!")):
            raise PydanticCustomError("hypothesis", "must be a sentence ending with a period")
        return value.strip()

    @field_validator("faults")
    @classmethod
    def _unique_fault_names(cls, faults: tuple[Fault, ...]) -> tuple[Fault, ...]:
        return unique_names(faults)

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        both_sides_problem(self)
        sources = [r.source for r in self.routes]
        problem = route_problem(
            [(r.source, r.destination) for r in self.routes],
            dead_letters=[r.dead_letter for r in self.routes],
        )
        if problem is not None:
            raise _route_error(problem)
        for index, route in enumerate(self.routes):
            ends = (("from", route.source), ("to", route.destination))
            for key, topic in (*ends, (DEAD_LETTER_PATH, route.dead_letter)):
                glob = None if topic is None else _protecting(self.blast_radius, topic)
                if glob is not None:
                    raise _at(f"routes[{index}].{key}", f"topic {topic!r} is protected ({glob})")
        holding = holding_problem(self.faults, self.blast_radius)
        if holding is not None:
            raise holding
        if self.routes and self.monitor.source_topic not in sources:
            raise _at("monitor.source_topic", "must be the source (from) of a route")
        if self.workload is not None and self.workload_topic not in sources:
            raise _at("workload.to", "must be the source (from) of a route")
        _tier_problem(self)
        names = {c.name for c in self.monitor.checks}
        sections = (("steady_state", self.steady_state), ("guardrails", self.guardrails))
        for section, bounds in sections:
            for index, bound in enumerate(bounds):
                if bound.check is not None and bound.check not in names:
                    raise _at(
                        f"{section}[{index}].check",
                        f"no check named {bound.check!r} (known: {', '.join(sorted(names))})",
                    )
                if bound.metric in SERVICE_METRICS and self.monitor.service_group is None:
                    raise _at(
                        f"{section}[{index}].metric",
                        f"{bound.metric} needs monitor.service_group (the service's "
                        "consumer group)",
                    )
        return self

    @property
    def workload_topic(self) -> str:
        return (self.workload and self.workload.to) or self.monitor.source_topic

    @property
    def duration_s(self) -> float:
        s = self.schedule
        return s.warmup_s + s.inject_s + s.recover_s + self.monitor.settle_ms / 1000


def _tier_problem(spec: ExperimentSpec) -> None:
    """A tier is a promise about time: a smoke experiment that takes ten minutes is not one."""
    limit = TIER_MAX_S.get(spec.tier or "standard")
    if limit is not None and spec.duration_s > limit:
        raise _at(
            "tier",
            f"{spec.tier} runs at most {limit:g} s; this schedule takes {spec.duration_s:g} s "
            "(warm-up, injection, recovery, settle)",
        )


def _protecting(blast: BlastRadius, topic: str) -> str | None:
    return next((g for g in blast.protected_topics if fnmatchcase(topic, g)), None)


def _route_error(problem: RouteProblem) -> LocatedError:
    """`contracts.routes.route_problem`'s finding, worded for a path in the file."""
    if problem.kind == "shared_source":
        return _at("routes", "a source topic may feed only one route")
    if problem.kind == "cycle":
        return _at("routes", f"routes form a cycle: {problem.detail}")
    where = f"routes[{problem.index}]"
    if problem.kind == "same_topic":
        return _at(where, "from and to are the same topic")
    side = DEAD_LETTER_PATH if problem.side == "dead_letter" else problem.side
    return _at(f"{where}.{side}", problem.detail)


def _at(path: str, message: str) -> LocatedError:
    return LocatedError(path, message)
