"""The fault schema: what a fault file (and the `faults` of an experiment) may declare.

A fault file is faults, a blast radius and a seed. What every fault declares (`name`,
`probability`, `trigger`, `match`) is in `injectors.base`; each fault's own fields are in its
module, and the `Fault` union is built from the registry (`injectors.registry`).

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
from typing import TYPE_CHECKING, Protocol, Self, TypeAlias, TypeVar

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from chaosbus.injectors.base import FaultConfig, MatchSpec, Trigger, _Spec, discriminated_union
from chaosbus.injectors.corrupt import CorruptFault
from chaosbus.injectors.delay import DelayFault
from chaosbus.injectors.distributions import ExponentialDelay, FixedDelay, SpikeDelay, UniformDelay
from chaosbus.injectors.drop import DropFault
from chaosbus.injectors.duplicate import DuplicateFault
from chaosbus.injectors.errors import SpecError
from chaosbus.injectors.limits import (
    MAX_COPIES,
    MAX_FAULTS_PER_S,
    MAX_HELD,
    MAX_HELD_DEFAULT,
    MAX_LIST,
    Count,
    Pattern,
    Seed,
)
from chaosbus.injectors.outage import OutageFault
from chaosbus.injectors.registry import FAULT_CONFIGS
from chaosbus.injectors.reorder import ReorderFault
from chaosbus.injectors.replay import ReplayFault
from chaosbus.injectors.schema_drift import SchemaDriftFault
from chaosbus.injectors.validation import ROOT, LocatedError, format_validation_error

# What this module defines, and the schema's parts other modules import from here as they did
# before each fault's config moved into its own module (issue 18). New code imports a fault's
# config from `chaosbus.injectors`; a new fault is not added here.
__all__ = [
    "BlastRadius",
    "CorruptFault",
    "DelayFault",
    "DropFault",
    "DuplicateFault",
    "ExponentialDelay",
    "Fault",
    "FaultFile",
    "FixedDelay",
    "MatchSpec",
    "OutageFault",
    "ReorderFault",
    "ReplayFault",
    "SchemaDriftFault",
    "SpikeDelay",
    "Trigger",
    "UniformDelay",
    "holding_problem",
    "parse_fault_document",
    "unique_names",
]

# Any fault file's fault: the union of the registry's configs, told apart by `type`. The type
# checker sees their common base; pydantic sees the union, its members in alphabetical order
# so "known: ..." in error messages lists the types in a stable order.
if TYPE_CHECKING:
    Fault: TypeAlias = FaultConfig
else:
    Fault = discriminated_union(FAULT_CONFIGS)


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
        raise SpecError(format_validation_error(exc, data, model=FaultFile), origin) from exc
