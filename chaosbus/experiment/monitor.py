"""The `monitor` section: the source of truth, the checks, and where each reads downstream.

An experiment may declare several checks over the same source, because one bug shows in
one place and not another: the order's state in a Redis hash (`entity`) and the customer's
running total in a Redis string (`counter`). Each check is a `monitors.MonitorConfig` plus
a probe; the source topic, settle time and example cap are shared.
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from monitors.config import ModelName, MonitorConfig
from monitors.extractors import ExtractorConfig


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RedisProbe(_Spec):
    """Reads one Redis key per entity: a hash field when `field` is set, else a string.

    The value is read as a number (a version for `entity`, a total for `counter`); a
    missing key or field means the entity is absent downstream. Read-only.
    """

    kind: Literal["redis"] = "redis"
    key: str
    field: str | None = None
    # A hash field that marks a tombstone (a service that keeps deleted entities as
    # `{deleted: 1, version: N}`): when it is set and not "0", the entity reads as absent.
    deleted_field: str | None = None

    @model_validator(mode="after")
    def _tombstone_needs_hash(self) -> Self:
        if self.deleted_field is not None and self.field is None:
            raise PydanticCustomError("deleted_field", "deleted_field needs field (a hash)")
        return self

    @field_validator("key")
    @classmethod
    def _names_entity(cls, value: str) -> str:
        if "{entity}" not in value:
            # No context given, so pydantic leaves the braces of the message as they are.
            raise PydanticCustomError("key_template", "must contain {entity}, e.g. order:{entity}")
        return value

    def key_for(self, entity: str, prefix: str = "") -> str:
        return prefix + self.key.replace("{entity}", entity)


# One kind today. When HTTP or Kafka effects probes join, this becomes a union keyed on
# `kind` (with a callable discriminator defaulting to redis, so files stay valid).
Probe = RedisProbe


class CheckSpec(_Spec):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    model: ModelName
    extract: ExtractorConfig = ExtractorConfig()
    probe: Probe


class MonitorSpec(_Spec):
    source_topic: str
    checks: tuple[CheckSpec, ...] = Field(min_length=1)
    settle_ms: int = Field(default=2_000, ge=0, strict=True)
    poll_ms: int = Field(default=250, ge=20, strict=True)
    max_examples: int = Field(default=5, ge=0, strict=True)

    @field_validator("checks")
    @classmethod
    def _unique_names(cls, checks: tuple[CheckSpec, ...]) -> tuple[CheckSpec, ...]:
        names = [c.name for c in checks]
        for index, name in enumerate(names):
            if name in names[:index]:
                raise PydanticCustomError(
                    "duplicate_name",
                    "check name '{name}' used twice",
                    {"name": name},
                )
        return checks

    def config_for(self, check: CheckSpec) -> MonitorConfig:
        """The monitors' own config for one check."""
        return MonitorConfig(
            source_topic=self.source_topic,
            model=check.model,
            extract=check.extract,
            settle_ms=self.settle_ms,
            max_examples=self.max_examples,
        )
