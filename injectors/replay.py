"""Replay: the message goes through on time, and the same message comes again long after.

This is the queue redelivery or the replayed execution of an automation, kept apart from a
delay: the service has already applied the original when the replay arrives, so a stale
replay must not overwrite what happened since. Copy 0 is the original at the decision time;
copy 1 is the replay:

* `after_ms`: released that much later (the runtime's release schedule holds it);
* `after_messages`: kept in the plan until the partition reaches the source offset
  `after_messages` past the original, then released just before that message is decided.
  A partition that goes quiet keeps it until `flush` (a stop or a kill), which releases it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal, Self

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from chaosbus.injectors.base import FaultConfig
from chaosbus.injectors.envelope import Emission, Envelope, SourceCoordinates
from chaosbus.injectors.injector import Injector, Told
from chaosbus.injectors.limits import MAX_DURATION_MS, MAX_WINDOW

# The variant of a replayed copy: byte-identical to its source, so not garbage.
REPLAY = "replay"


class ReplayFault(FaultConfig):
    """The original on time, and the same message again long after: a queue redelivery."""

    type: Literal["replay"] = "replay"
    after_ms: int | None = Field(default=None, ge=1, le=MAX_DURATION_MS, strict=True)
    after_messages: int | None = Field(default=None, ge=1, le=MAX_WINDOW, strict=True)

    @model_validator(mode="after")
    def _exactly_one_horizon(self) -> Self:
        if (self.after_ms is None) == (self.after_messages is None):
            raise PydanticCustomError("replay", "needs exactly one of after_ms, after_messages")
        return self


@dataclass(frozen=True, slots=True)
class Pending:
    envelope: Envelope
    due_offset: int
    decided_at_ms: int


@dataclass(frozen=True, slots=True)
class ReplayState:
    pending: tuple[Pending, ...] = ()


def apply(
    config: ReplayFault, envelope: Envelope, state: ReplayState, rng: random.Random, now_ms: int
) -> tuple[tuple[Emission, ...], ReplayState]:
    original = Emission(envelope, 0, now_ms)
    if config.after_ms is not None:
        replay = Emission(envelope, 1, now_ms + config.after_ms, config.after_ms, REPLAY)
        return (original, replay), state
    assert config.after_messages is not None  # the spec requires exactly one horizon
    due = Pending(envelope, envelope.source.offset + config.after_messages, now_ms)
    return (original,), ReplayState((*state.pending, due))


def observe(
    config: ReplayFault, state: ReplayState, position: SourceCoordinates, now_ms: int
) -> tuple[tuple[Emission, ...], ReplayState]:
    """Release the replays due at or before the message about to be decided."""
    due = tuple(p for p in state.pending if p.due_offset <= position.offset)
    if not due:
        return (), state
    kept = tuple(p for p in state.pending if p.due_offset > position.offset)
    return _release(due, now_ms), ReplayState(kept)


def flush(
    config: ReplayFault, state: ReplayState, now_ms: int
) -> tuple[tuple[Emission, ...], ReplayState]:
    return _release(state.pending, now_ms), ReplayState()


def held_count(state: ReplayState) -> int:
    return len(state.pending)


def _release(pending: tuple[Pending, ...], now_ms: int) -> tuple[Emission, ...]:
    return tuple(Emission(p.envelope, 1, now_ms, now_ms - p.decided_at_ms, REPLAY) for p in pending)


def explain(told: Told) -> str:
    return f"{told.event} hit by {told.by} (replay)"


FAULT = Injector(
    config=ReplayFault,
    initial_state=ReplayState,
    apply=apply,
    explain=explain,
    flush=flush,
    held=held_count,
    observe=observe,
    ledgered=(None, REPLAY),
)
