"""What the runner and its interposer child say to each other: one JSON object a line.

    runner ──stdin──►  Launch (the first line), then Command lines (intensity, the kill
                       switch's halt, the scoped pauses, stop)
    runner ◄─stdout──  Status lines: `started` once the proxy runs, the counts every
                       STATUS_EVERY_S, a `final` one when it has drained (or a `failure`)

The child is `runner.interposer_child`; the runner's side is `runner.supervised_side`
(decision 0271). Both read these models, so neither can drift from the other.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from pydantic import BaseModel, ConfigDict

from chaosbus.clients.connection import KafkaSettings
from chaosbus.control.scopes import NOTHING_PAUSED, Paused
from chaosbus.experiment.spec import ExperimentSpec

STATUS_EVERY_S = 0.1
CHILD_MODULE = "chaosbus.runner.interposer_child"


class _Line(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def line(self) -> bytes:
        return self.model_dump_json(exclude_defaults=True).encode() + b"\n"


class Pauses(_Line):
    """The scoped switches (`control.scopes.Paused`) as a line can carry them."""

    fields: tuple[str, ...] = ()
    everything: bool = False
    detail: str = ""

    @classmethod
    def of(cls, paused: Paused) -> Pauses:
        return cls(
            fields=tuple(sorted(paused.fields)), everything=paused.everything, detail=paused.detail
        )

    def paused(self) -> Paused:
        return Paused(frozenset(self.fields), self.everything, self.detail)


class Launch(_Line):
    """Everything the child needs to run the run's topic side, as the runner has it now."""

    spec: dict[str, Any]  # the experiment, max_faults lowered by what earlier children used
    kafka: dict[str, Any]  # KafkaSettings' fields (credentials included: a pipe, not argv)
    run_id: str
    salt: str | None = None  # hex; `privacy: hashed`
    intensity: float = 0.0
    injecting: bool = True
    pauses: Pauses = Pauses()

    @classmethod
    def of(
        cls,
        spec: ExperimentSpec,
        kafka: KafkaSettings,
        *,
        run_id: str,
        salt: bytes | None,
        intensity: float,
        injecting: bool,
        paused: Paused = NOTHING_PAUSED,
    ) -> Launch:
        return cls(
            spec=spec.model_dump(mode="json", by_alias=True, exclude_none=True),
            kafka=dataclasses.asdict(kafka),
            run_id=run_id,
            salt=salt.hex() if salt is not None else None,
            intensity=intensity,
            injecting=injecting,
            pauses=Pauses.of(paused),
        )

    def experiment(self) -> ExperimentSpec:
        return ExperimentSpec.model_validate(self.spec)

    def settings(self) -> KafkaSettings:
        return KafkaSettings(**self.kafka)

    def identifier_salt(self) -> bytes | None:
        return bytes.fromhex(self.salt) if self.salt is not None else None


class Command(_Line):
    """One instruction; absent fields leave things as they are."""

    intensity: float | None = None
    injecting: bool | None = None  # False: the kill switch's halt (never turned back on)
    pauses: Pauses | None = None  # the scoped switches now (`chaosbus pause` / `resume`)
    stop: bool = False


class Status(_Line):
    """What the child's topic side counts now (`TopicSide`'s numbers)."""

    started: bool = False
    counts: dict[str, int] = {}  # decisions by type, `pass` included
    refused: int = 0
    suppressed: dict[str, int] = {}
    held: int = 0
    final: bool = False  # drained and committed: the counts are complete
    failure: str | None = None  # what stopped the proxy, in one line
    unreachable: bool = False  # the failure is a broker that did not answer
