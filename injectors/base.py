"""What every fault declares besides its own parameters: a name, a probability, a count trigger
and (on topics) a `match`; and the model each fault's config derives from.

Models are frozen and reject unknown keys (`SpecModel`), so a typo in a YAML file is an error
rather than a silently ignored option. Each fault module (`injectors/duplicate.py`, …) defines
its config as a subclass of `FaultConfig` whose `type` is a one-value literal: the name the
YAML, the ledger and the registry use.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, Literal, Self, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    JsonValue,
    SerializerFunctionWrapHandler,
    StrictBool,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

from chaosbus.injectors.limits import MAX_COUNT, MAX_LIST, Name, Pattern, Probability, SpecModel

_Spec = SpecModel

# How a fault that changes a copy delivers it: `replace` sends only the changed copy, `extra`
# the intact original first and the changed copy after it.
Mode = Literal["replace", "extra"]


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

    @model_serializer(mode="wrap")
    def _given_only(self, handler: SerializerFunctionWrapHandler) -> Any:
        # Dump only the operator that was given, so a dumped spec validates again.
        data = handler(self)
        if isinstance(data, dict):
            for name in {"equals", "exists"} - self.model_fields_set:
                data.pop(name, None)
        return data


def check_json_path(path: str) -> str:
    """A path rooted at the document: `$`, or `$.` then dotted keys (digits index lists)."""
    if path != "$" and not path.startswith("$."):
        raise ValueError("a JSON path starts with '$.' (dotted keys, digits index lists)")
    if path != "$" and any(not part for part in path[2:].split(".")):
        raise ValueError("a JSON path has no empty segment")
    return path


class PathCondition(JsonCondition):
    """A `JsonCondition` on the value at `path` (`$.status`), e.g.
    `{path: $.status, equals: paid}` or `{path: $.refund_of, exists: false}`.

    The monitors' `where` (which events a check judges) and `delete` (which events delete
    their entity) take this form; it is judged by `injectors.match.path_holds`, with the
    same operators and the same JSON equality as a fault's `match.json`.
    """

    path: Pattern = Field(description="`$.` then dotted keys; digits index lists.")

    @field_validator("path")
    @classmethod
    def _rooted(cls, value: str) -> str:
        return check_json_path(value)


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


def _probability_unless_triggered(schema: dict[str, Any]) -> None:
    # The JSON Schema says what the validator below does: no trigger, then a probability.
    schema["required"] = [name for name in schema.get("required", []) if name != "probability"]
    schema["if"] = {"not": {"required": ["trigger"]}}
    schema["then"] = {"required": ["probability"]}


class Triggered(_Spec):
    """What every fault, on topics or HTTP, declares besides its own parameters and `match`."""

    model_config = ConfigDict(json_schema_extra=_probability_unless_triggered)

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


class FaultConfig(Triggered):
    """The config of a topic fault; each fault module narrows `type` to its own name."""

    type: str
    match: MatchSpec | None = None


def type_name(config: type[BaseModel]) -> str:
    """The `type` a fault config declares (the default of its one-value literal)."""
    default = config.model_fields["type"].default
    if not isinstance(default, str):
        raise TypeError(f"{config.__name__}.type has no default name")
    return default


def discriminated_union(configs: Iterable[type[BaseModel]]) -> Any:
    """The pydantic union of fault configs, tagged by `type`, its members in alphabetical
    order of their names so what pydantic lists stays stable as faults are added."""
    members = tuple(sorted(configs, key=type_name))
    return Annotated[Union[members], Discriminator("type")]  # noqa: UP007
