"""The `monitor` section: the source of truth, the checks, and where each reads downstream.

An experiment may declare several checks over the same source, because one bug shows in
one place and not another: the order's state in a Redis hash (`entity`) and the customer's
running total in a Redis string (`counter`). Each check is a `monitors.MonitorConfig` plus
a probe; the source topic, settle time and example cap are shared.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from monitors.config import ModelName, MonitorConfig
from monitors.extractors import ExtractorConfig
from monitors.probes.redis_probe import RedisProbeConfig

# A verdict on 95 % of the source stands for the whole; on less, drift or a probe that sees
# little could be hiding what the rest would show (docs/decisions/0070).
DEFAULT_MIN_JUDGED_SHARE = 0.95


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# The monitors' own probe config. One kind in experiment files today; when HTTP probes
# join, this becomes a union keyed on `kind` (defaulting to redis, so files stay valid).
Probe = RedisProbeConfig


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
    # Below this share of the source events judged (per check), a run is `inconclusive`.
    min_judged_share: float = Field(default=DEFAULT_MIN_JUDGED_SHARE, ge=0.0, le=1.0)

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
