"""The fault schema: what a fault file (and the `faults` of an experiment) may declare.

Models are frozen and reject unknown keys, so a typo in a YAML file is an error rather than
a silently ignored option. Validation problems surface as `SpecError.problems`, one line per
problem naming its path (see `injectors.validation`).

Example fault file::

    seed: 42
    blast_radius: {max_faults: 500, max_key_share: 0.2, protected_topics: ["payments.*"]}
    faults:
      - {type: duplicate, probability: 0.05, copies: 2, spread_ms: 250}
      - type: delay
        probability: 0.1
        distribution: {kind: uniform, min_ms: 100, max_ms: 2000}
        match: {json: {status: {equals: paid}}}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal, Protocol, Self, TypeVar

from pydantic import (
    Discriminator,
    Field,
    JsonValue,
    StrictBool,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from chaosbus.injectors.errors import SpecError
from chaosbus.injectors.limits import (
    MAX_BURST,
    MAX_COPIES,
    MAX_COUNT,
    MAX_DURATION_MS,
    MAX_FAULTS_PER_S,
    MAX_HELD,
    MAX_HELD_DEFAULT,
    MAX_LIST,
    MAX_NAME,
    MAX_WINDOW,
    Count,
    Millis,
    Name,
    Pattern,
    Probability,
    Seed,
    SpecModel,
)
from chaosbus.injectors.validation import ROOT, LocatedError, format_validation_error

_Spec = SpecModel


class JsonCondition(_Spec):
    """Exactly one of `equals` (any JSON value, `null` included) or `exists`."""

    equals: JsonValue = None
    exists: StrictBool | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        # `equals: null` is a real condition, so "given" means "set", not "not None".
        given = self.model_fields_set & {"equals", "exists"}
        if len(given) != 1:
            raise PydanticCustomError("json_condition", "needs exactly one of equals, exists")
        if "exists" in given and self.exists is None:
            raise PydanticCustomError("json_condition", "exists must be true or false")
        return self


class MatchSpec(_Spec):
    """Which messages a fault may touch; every given criterion must hold."""

    topic: Pattern | None = None  # fnmatch glob, case-sensitive
    key: Pattern | None = None  # glob on the UTF-8 key; null or non-UTF-8 keys never match
    # name -> exact value (UTF-8)
    headers: dict[Pattern, Pattern] | None = Field(default=None, max_length=MAX_LIST)
    json_conditions: dict[Pattern, JsonCondition] | None = Field(
        default=None, alias="json", max_length=MAX_LIST
    )

    @field_validator("json_conditions")
    @classmethod
    def _paths_well_formed(
        cls, value: dict[str, JsonCondition] | None
    ) -> dict[str, JsonCondition] | None:
        for path in value or {}:
            if not path or "" in path.split("."):
                raise PydanticCustomError(
                    "json_path", "path '{path}' has an empty segment", {"path": path}
                )
        return value


class Trigger(_Spec):
    """Count-exact gating of a fault, per source partition, over the messages it matches.

    Counting starts at 1 with the first matching message of the partition. Every given
    criterion must hold: `first: N` the first N, `after: N` only past the N-th, `every: K`
    the K-th, 2K-th, …; `times: N` stops after N messages were actually faulted. The
    probability draw still applies on top (it defaults to 1 when a trigger is given).
    """

    first: int | None = Field(default=None, ge=1, le=MAX_COUNT, strict=True)
    after: int | None = Field(default=None, ge=0, le=MAX_COUNT, strict=True)
    every: int | None = Field(default=None, ge=1, le=MAX_COUNT, strict=True)
    times: int | None = Field(default=None, ge=1, le=MAX_COUNT, strict=True)

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if not self.model_fields_set:
            raise PydanticCustomError("trigger", "needs one of first, after, every, times")
        return self

    def eligible(self, position: int) -> bool:
        """May the `position`-th matching message (1-based) of a partition be faulted?"""
        if self.first is not None and position > self.first:
            return False
        if self.after is not None and position <= self.after:
            return False
        return self.every is None or position % self.every == 0


class Triggered(_Spec):
    """What every fault, on topics or HTTP, declares besides its own parameters and `match`."""

    name: Name | None = None
    probability: Probability
    trigger: Trigger | None = None

    @model_validator(mode="before")
    @classmethod
    def _triggered_default_probability(cls, data: object) -> object:
        # "fail the first 3" reads naturally without `probability: 1`.
        if isinstance(data, dict) and "trigger" in data and "probability" not in data:
            return {**data, "probability": 1.0}
        return data


class _Fault(Triggered):
    match: MatchSpec | None = None


class DuplicateFault(_Fault):
    type: Literal["duplicate"] = "duplicate"
    copies: int = Field(default=1, ge=1, le=MAX_COPIES, strict=True)
    spread_ms: Millis = 0


class ReorderFault(_Fault):
    type: Literal["reorder"] = "reorder"
    window: int = Field(default=10, ge=2, le=MAX_WINDOW, strict=True)
    within_ms: int | None = Field(default=None, ge=1, le=MAX_DURATION_MS, strict=True)


class FixedDelay(_Spec):
    kind: Literal["fixed"] = "fixed"
    ms: Millis


class UniformDelay(_Spec):
    kind: Literal["uniform"] = "uniform"
    min_ms: Millis
    max_ms: Millis

    @field_validator("max_ms")
    @classmethod
    def _not_below_min(cls, value: int, info: ValidationInfo) -> int:
        low = info.data.get("min_ms")
        if low is not None and value < low:
            raise PydanticCustomError(
                "max_below_min", "must be ≥ min_ms ({min_ms})", {"min_ms": low}
            )
        return value


class ExponentialDelay(_Spec):
    kind: Literal["exponential"] = "exponential"
    mean_ms: float = Field(gt=0, le=MAX_DURATION_MS)


class SpikeDelay(_Spec):
    kind: Literal["spike"] = "spike"
    base_ms: Millis
    spike_ms: Millis
    spike_probability: Probability


Distribution = Annotated[
    ExponentialDelay | FixedDelay | SpikeDelay | UniformDelay, Discriminator("kind")
]


class DelayFault(_Fault):
    type: Literal["delay"] = "delay"
    distribution: Distribution
    preserve_order: StrictBool = True


class DropFault(_Fault):
    type: Literal["drop"] = "drop"
    burst: int = Field(default=1, ge=1, le=MAX_BURST, strict=True)


Mode = Literal["replace", "extra"]


class CorruptFault(_Fault):
    """The copy's value damaged: `replace` sends only the damaged copy, `extra` both."""

    type: Literal["corrupt"] = "corrupt"
    mode: Mode = "replace"
    how: tuple[Literal["truncate", "flip", "invalid_utf8", "non_json"], ...] = Field(
        default=("truncate", "flip", "invalid_utf8", "non_json"), min_length=1
    )
    flip_bytes: int = Field(default=1, ge=1, le=MAX_COPIES, strict=True)


class SchemaDriftFault(_Fault):
    """A JSON object's shape changed, as when an automation's connector is upgraded."""

    type: Literal["schema_drift"] = "schema_drift"
    mode: Mode = "replace"
    change: tuple[Literal["rename", "remove", "retype", "enum", "extra"], ...] = Field(
        default=("rename", "remove", "retype", "enum", "extra"), min_length=1
    )
    # The field to change (a top-level name); absent: one drawn from the object's fields.
    field: str | None = Field(default=None, min_length=1, max_length=MAX_NAME)
    rename_suffix: str = Field(default="_v2", min_length=1, max_length=MAX_NAME)
    enum_value: Name = "UNKNOWN_VALUE"
    extra_field: str = Field(default="unexpected_field", min_length=1, max_length=MAX_NAME)


class ReplayFault(_Fault):
    """The original on time, and the same message again long after: a queue redelivery."""

    type: Literal["replay"] = "replay"
    after_ms: int | None = Field(default=None, ge=1, le=MAX_DURATION_MS, strict=True)
    after_messages: int | None = Field(default=None, ge=1, le=MAX_WINDOW, strict=True)

    @model_validator(mode="after")
    def _exactly_one_horizon(self) -> Self:
        if (self.after_ms is None) == (self.after_messages is None):
            raise PydanticCustomError("replay", "needs exactly one of after_ms, after_messages")
        return self


class OutageFault(_Fault):
    """The automation is down: from a fired message on, its partition's matching messages
    are held for `duration_ms`, then released at once, in order or shuffled."""

    type: Literal["outage"] = "outage"
    duration_ms: int = Field(ge=1, le=MAX_DURATION_MS, strict=True)
    order: Literal["preserve", "shuffle"] = "preserve"


# Alphabetical, so "known: ..." in error messages lists the types in a stable order.
Fault = Annotated[
    CorruptFault
    | DelayFault
    | DropFault
    | DuplicateFault
    | OutageFault
    | ReorderFault
    | ReplayFault
    | SchemaDriftFault,
    Discriminator("type"),
]


class BlastRadius(_Spec):
    """Caps on what a fault plan may touch. Counted per plan instance (per interposer).

    A cap that binds turns the fault into a pass whose ledger `reason` names the cap;
    the report counts those passes by cap. `max_held_messages` is the interposer's holding
    limit (it stops reading at that many held messages), so reorder windows can be checked
    against it before anything runs.
    """

    max_faults: Count | None = None
    max_key_share: float | None = Field(default=None, gt=0.0, le=1.0)
    # A token bucket over logical time: at most this many faults per second on average,
    # bursts of up to one second's worth (at least one fault).
    max_faults_per_s: float | None = Field(default=None, gt=0.0, le=MAX_FAULTS_PER_S)
    # Extra copies one source message may get (a duplicate's `copies`); 0: no duplicates.
    max_copies_per_message: int | None = Field(default=None, ge=0, le=MAX_COPIES, strict=True)
    max_held_messages: int = Field(default=MAX_HELD_DEFAULT, ge=1, le=MAX_HELD, strict=True)
    protected_topics: tuple[Pattern, ...] = Field(default=(), max_length=MAX_LIST)


def holding_problem(faults: Sequence[Fault], blast: BlastRadius) -> LocatedError | None:
    """A reorder without `within_ms` that could fill the holding limit and never release.

    Such a buffer empties only when its window fills; the interposer stops reading at
    `max_held_messages`, so windows that together hold that many in one partition would
    wait forever for a message that is never read. With `within_ms` they expire by time.
    """
    held = 0
    for index, fault in enumerate(faults):
        if isinstance(fault, ReorderFault) and fault.within_ms is None:
            held += fault.window - 1
            if held >= blast.max_held_messages:
                return LocatedError(
                    f"faults[{index}].window",
                    f"reorder windows without within_ms hold up to {held} messages of one "
                    f"partition, not below blast_radius.max_held_messages "
                    f"({blast.max_held_messages}); set within_ms or a smaller window",
                )
    return None


class _Named(Protocol):
    @property
    def name(self) -> str | None: ...


N = TypeVar("N", bound=_Named)


def unique_names(
    items: tuple[N, ...], *, kind: str = "fault", listed_as: str = ""
) -> tuple[N, ...]:
    """The items as they are, or one error naming the first name given twice (unnamed items
    are left out); with `listed_as` (the list's key) the error names both positions.

    The one check of unique names: the faults of fault files, experiments and HTTP routes,
    and the checks of a monitor (`kind="check"`).
    """
    first: dict[str, int] = {}
    for index, item in enumerate(items):
        if item.name is None:
            continue
        if item.name not in first:
            first[item.name] = index
            continue
        where = {"kind": kind, "name": item.name, "key": listed_as, "a": first[item.name]}
        message = (
            "{kind} name '{name}' used by {key}[{a}] and {key}[{b}]"
            if listed_as
            else "{kind} name '{name}' used twice"
        )
        raise PydanticCustomError("duplicate_name", message, {**where, "b": index})
    return items


class FaultFile(_Spec):
    faults: tuple[Fault, ...] = Field(max_length=MAX_LIST)
    blast_radius: BlastRadius = BlastRadius()
    seed: Seed | None = None

    @field_validator("faults")
    @classmethod
    def _unique_names(cls, faults: tuple[Fault, ...]) -> tuple[Fault, ...]:
        return unique_names(faults, listed_as="faults")

    @model_validator(mode="after")
    def _holding(self) -> Self:
        problem = holding_problem(self.faults, self.blast_radius)
        if problem is not None:
            raise problem
        return self


def parse_fault_document(data: object, origin: str) -> FaultFile:
    """Validate an already-parsed document (e.g. from YAML or JSON) as a fault file."""
    if data is None:
        raise SpecError([f"{ROOT}: empty; expected a mapping with a 'faults' list"], origin)
    try:
        return FaultFile.model_validate(data)
    except ValidationError as exc:
        raise SpecError(format_validation_error(exc, data), origin) from exc
