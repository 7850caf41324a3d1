"""The `monitor` section: the source of truth, the checks, and where each reads downstream.

An experiment may declare several checks over the same source, because one bug shows in
one place and not another: the order's state in a Redis hash (`entity`) and the customer's
running total in a Redis string (`counter`). Each check is a `monitors.MonitorConfig` plus
a probe; the source topic, settle time and example cap are shared.
"""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from injectors.limits import MAX_DURATION_MS, MAX_LIST, MAX_TOPIC, Millis, Name, SpecModel
from monitors.config import ModelName, MonitorConfig
from monitors.extractors import ExtractorConfig
from monitors.probes.redis_probe import RedisProbeConfig

_Spec = SpecModel


# The monitors' own probe config. One kind in experiment files today; when HTTP probes
# join, this becomes a union keyed on `kind` (defaulting to redis, so files stay valid).
Probe = RedisProbeConfig


class CheckSpec(_Spec):
    name: Name = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    model: ModelName
    extract: ExtractorConfig = ExtractorConfig()
    probe: Probe


class MonitorSpec(_Spec):
    source_topic: str = Field(max_length=MAX_TOPIC)
    # Empty only in an experiment without topic routes (ExperimentSpec checks that).
    checks: tuple[CheckSpec, ...] = Field(default=(), max_length=MAX_LIST)
    settle_ms: Millis = 2_000
    poll_ms: int = Field(default=250, ge=20, le=MAX_DURATION_MS, strict=True)
    max_examples: int = Field(default=5, ge=0, le=MAX_LIST, strict=True)

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
