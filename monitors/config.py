"""The `monitor` section of an experiment: what to read and how to judge it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from chaosbus.monitors.extractors import ExtractorConfig

ModelName = Literal["entity", "counter", "once"]


class MonitorConfig(BaseModel):
    """Declared once per experiment; the readers and checkers take it as it is.

    `settle_ms` is how long after an event is due downstream the service may take before
    its state is judged; `max_examples` caps the examples kept per anomaly.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    source_topic: str
    model: ModelName
    extract: ExtractorConfig = ExtractorConfig()
    settle_ms: int = Field(default=5_000, ge=0)
    max_examples: int = Field(default=10, ge=0)
