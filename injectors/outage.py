"""Outage: the automation is down, then catches up all at once.

When the fault fires on a message, an outage of `duration_ms` opens on that partition: that
message and every later message the fault matches are held, without a new draw (like a drop
burst), until the outage ends; then all of them are released at once, in arrival order or
shuffled (`order: shuffle`, the catch-up of parallel workers). Messages the fault does not
match pass meanwhile: a key-targeted outage models one tenant's connector being down.

The shuffle seed is drawn by the message that opened the outage, so the catch-up order is
as reproducible as any decision. Ending is by time, in `poll`, which the plan runs before
every decision of the partition and the runtime runs every pump; `flush` releases in arrival
order, because stopping must not add disorder.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from chaosbus.injectors.base import FaultConfig
from chaosbus.injectors.buffer import Held, release
from chaosbus.injectors.envelope import Emission, Envelope
from chaosbus.injectors.injector import Injector, Told
from chaosbus.injectors.limits import MAX_DURATION_MS


class OutageFault(FaultConfig):
    """The automation is down: from a fired message on, its partition's matching messages
    are held for `duration_ms`, then released at once, in order or shuffled."""

    type: Literal["outage"] = "outage"
    duration_ms: int = Field(ge=1, le=MAX_DURATION_MS, strict=True)
    order: Literal["preserve", "shuffle"] = "preserve"


@dataclass(frozen=True, slots=True)
class OutageState:
    held: tuple[Held, ...] = ()
    until_ms: int | None = None  # None: no outage open
    shuffle_seed: int = 0


def apply(
    config: OutageFault, envelope: Envelope, state: OutageState, rng: random.Random, now_ms: int
) -> tuple[tuple[Emission, ...], OutageState]:
    if state.until_ms is None:
        state = OutageState((), now_ms + config.duration_ms, rng.getrandbits(64))
    return (), OutageState(
        (*state.held, Held(envelope, now_ms)), state.until_ms, state.shuffle_seed
    )


def forced(config: OutageFault, state: OutageState) -> bool:
    """While an outage is open, every matched message is held whatever the draw says."""
    return state.until_ms is not None


def poll(
    config: OutageFault, state: OutageState, now_ms: int
) -> tuple[tuple[Emission, ...], OutageState]:
    if state.until_ms is None or now_ms < state.until_ms:
        return (), state
    shuffle = random.Random(state.shuffle_seed) if config.order == "shuffle" else None
    return release(state.held, shuffle, now_ms), OutageState()


def flush(
    config: OutageFault, state: OutageState, now_ms: int
) -> tuple[tuple[Emission, ...], OutageState]:
    return release(state.held, None, now_ms), OutageState()


def held_count(state: OutageState) -> int:
    return len(state.held)


def explain(told: Told) -> str:
    return f"{told.event} hit by {told.by} (outage)"


FAULT = Injector(
    config=OutageFault,
    initial_state=OutageState,
    apply=apply,
    explain=explain,
    flush=flush,
    poll=poll,
    held=held_count,
    forced=forced,
)
