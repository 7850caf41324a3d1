"""The `monitor` section: the source of truth, the checks, and where each reads downstream.

An experiment may declare several checks over the same source, because one bug shows in
one place and not another: the order's state in a Redis hash (`entity`) and the customer's
running total in a Redis string (`counter`). Each check is a `monitors.MonitorConfig` plus
a probe; the source topic, settle time and example cap are shared.

A probe is one of four kinds, keyed on `kind` (redis when absent, so older files stay
valid). Some read state per entity, some read effects that name their events:

| kind    | reads                                                     | models          |
| ------- | --------------------------------------------------------- | --------------- |
| `redis` | a key per entity (hash field or string)                   | entity, counter |
| `http`  | `url` with `{entity}`: a resource per entity              | entity, counter |
|         | `url` without it: a list of effect ids at `json`          | once, counter   |
| `sql`   | `query` with `%(entity)s`: a row per entity               | entity, counter |
|         | `query` without it: a row per effect, first column the id | once, counter   |
| `kafka` | an effects topic the service writes                       | once, counter   |

`service_group` names the service's own consumer group: its lag on the interposed topic is
then sampled during the run (`service.lag.*` metrics, the `stalled_consumer` anomaly).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from chaosbus.injectors.limits import (
    MAX_DURATION_MS,
    MAX_LIST,
    MAX_NAME,
    MAX_TOPIC,
    Millis,
    Name,
    SpecModel,
)
from chaosbus.injectors.spec import unique_names
from chaosbus.monitors.config import ModelName, MonitorConfig
from chaosbus.monitors.extractors import ExtractorConfig
from chaosbus.monitors.probes.http_probe import HttpProbeConfig
from chaosbus.monitors.probes.kafka_reader import EffectsConfig
from chaosbus.monitors.probes.redis_probe import RedisProbeConfig
from chaosbus.monitors.probes.sql_probe import SqlProbeConfig

PROBE_KINDS = ("redis", "http", "kafka", "sql")

_Spec = SpecModel

# A verdict on 95 % of the source stands for the whole; on less, drift or a probe that sees
# little could be hiding what the rest would show (docs/decisions/0070).
DEFAULT_MIN_JUDGED_SHARE = 0.95


def _probe_kind(value: Any) -> str | None:
    kind = value.get("kind", "redis") if isinstance(value, dict) else getattr(value, "kind", None)
    return kind if kind in PROBE_KINDS else None


Probe = Annotated[
    Annotated[RedisProbeConfig, Tag("redis")]
    | Annotated[HttpProbeConfig, Tag("http")]
    | Annotated[EffectsConfig, Tag("kafka")]
    | Annotated[SqlProbeConfig, Tag("sql")],
    Discriminator(
        _probe_kind,
        custom_error_type="probe_kind",
        custom_error_message=f"unknown probe kind: expected one of {', '.join(PROBE_KINDS)}",
    ),
]


def reads_effects(probe: Probe) -> bool:
    """Whether the probe reads effects that name their events, rather than state."""
    return isinstance(probe, EffectsConfig | HttpProbeConfig | SqlProbeConfig) and (
        probe.reads_effects
    )


class CheckSpec(_Spec):
    name: Name = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    model: ModelName
    extract: ExtractorConfig = ExtractorConfig()
    probe: Probe

    @field_validator("probe")
    @classmethod
    def _fits_the_model(cls, probe: Probe, info: ValidationInfo) -> Probe:
        model = info.data.get("model")
        effects = reads_effects(probe)
        if model == "once" and not effects:
            raise PydanticCustomError(
                "probe_model",
                "model once judges effects: use kind kafka, an http url without {entity}, "
                "or a sql query without %(entity)s",
            )
        if model == "entity" and effects:
            raise PydanticCustomError(
                "probe_model",
                "model entity reads state per entity: the probe must name {entity} "
                "(redis key, http url) or %(entity)s (sql query)",
            )
        return probe


class MonitorSpec(_Spec):
    source_topic: str = Field(max_length=MAX_TOPIC)
    # Empty only in an experiment without topic routes (ExperimentSpec checks that).
    checks: tuple[CheckSpec, ...] = Field(default=(), max_length=MAX_LIST)
    settle_ms: Millis = 2_000
    poll_ms: int = Field(default=250, ge=20, le=MAX_DURATION_MS, strict=True)
    max_examples: int = Field(default=5, ge=0, le=MAX_LIST, strict=True)
    service_group: str | None = Field(default=None, min_length=1, max_length=MAX_NAME)
    stall_ms: int = Field(default=5_000, ge=100, le=MAX_DURATION_MS, strict=True)
    # Below this share of the source events judged (per check), a run is `inconclusive`.
    min_judged_share: float = Field(default=DEFAULT_MIN_JUDGED_SHARE, ge=0.0, le=1.0)

    @field_validator("checks")
    @classmethod
    def _unique_names(cls, checks: tuple[CheckSpec, ...]) -> tuple[CheckSpec, ...]:
        return unique_names(checks, kind="check")

    def config_for(self, check: CheckSpec) -> MonitorConfig:
        """The monitors' own config for one check."""
        return MonitorConfig(
            source_topic=self.source_topic,
            model=check.model,
            extract=check.extract,
            settle_ms=self.settle_ms,
            max_examples=self.max_examples,
        )
