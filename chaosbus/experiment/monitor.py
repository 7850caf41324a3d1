"""The `monitor` section: the source of truth, the checks, and where each reads downstream.

An experiment may declare several checks over the same source, because one bug shows in
one place and not another: the order's state in a Redis hash (`entity`) and the customer's
running total in a Redis string (`counter`). Each check is a `monitors.MonitorConfig` plus
a probe; the source topic, settle time and example cap are shared.

A probe is one of the kinds of `monitors.probes.registry`, keyed on `kind` (redis when
absent, so older files stay valid); the union below is built from that registry. Some
kinds read state per entity, some read effects that name their events, some either,
depending on their template (each kind's module says which): `once` needs effects,
`entity` needs state, `counter` takes either.

`service_group` names the service's own consumer group: its lag on the interposed topic is
then sampled during the run (`service.lag.*` metrics, the `stalled_consumer` anomaly).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, TypeAlias, Union

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
from chaosbus.monitors.extractors import ExtractorConfig, Where
from chaosbus.monitors.probes.registry import (
    DEFAULT_KIND,
    PROBE_KINDS,
    ProbeSettings,
    reads_effects,
)

_Spec = SpecModel

# A verdict on 95 % of the source stands for the whole; on less, drift or a probe that sees
# little could be hiding what the rest would show (docs/decisions/0070).
DEFAULT_MIN_JUDGED_SHARE = 0.95


def _probe_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        kind = value.get("kind", DEFAULT_KIND)
    else:
        kind = getattr(value, "kind", None)
    return kind if kind in PROBE_KINDS else None


def probe_config_union() -> Any:
    """Every registered kind's config, tagged with its name, told apart by `kind`."""
    tagged = tuple(Annotated[kind.config, Tag(name)] for name, kind in PROBE_KINDS.items())
    return Annotated[
        Union[tagged],  # noqa: UP007 - built from a tuple, which `|` cannot spell
        Discriminator(
            _probe_kind,
            custom_error_type="probe_kind",
            custom_error_message=f"unknown probe kind: expected one of {', '.join(PROBE_KINDS)}",
        ),
    ]


if TYPE_CHECKING:
    # Built at run time from the registry; statically, any kind's config.
    ProbeConfig: TypeAlias = ProbeSettings
else:
    ProbeConfig = probe_config_union()


class CheckSpec(_Spec):
    """One check: which source events it judges, how it reads them, how it reads the service."""

    name: Name = Field(
        pattern=r"^[A-Za-z0-9_.-]+$", description="Names the check in reports.", examples=["paid"]
    )
    model: ModelName = Field(
        description="entity: per entity, the highest version wins (deletes remove it); "
        "counter: per entity, the sum of `amount` over distinct events; once: every event "
        "has exactly one effect."
    )
    extract: ExtractorConfig = Field(
        default=ExtractorConfig(), description="How each source event is read."
    )
    where: Where | None = Field(
        default=None,
        description="Selects the source events this check judges (all when absent): a "
        "condition `{path, equals|exists}` or a list of them, every one holding. Events "
        "outside it are counted, not judged.",
        examples=[{"path": "$.status", "equals": "paid"}],
    )
    probe: ProbeConfig = Field(
        description="How the service is read downstream, by `kind` (redis when absent)."
    )

    @field_validator("probe")
    @classmethod
    def _fits_the_model(cls, probe: ProbeConfig, info: ValidationInfo) -> ProbeConfig:
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
    """The source of truth and the checks judged against it."""

    source_topic: str = Field(
        max_length=MAX_TOPIC, description="The topic the automation writes: the source of truth."
    )
    # Empty only in an experiment without topic routes (ExperimentSpec checks that).
    checks: tuple[CheckSpec, ...] = Field(
        default=(), max_length=MAX_LIST, description="What is judged, each with its probe."
    )
    settle_ms: Millis = Field(
        default=2_000, description="How long the service may take before its state is judged."
    )
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
