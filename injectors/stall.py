"""Stall: a stuck connector shard. One partition stops flowing for a while; the others flow.

When the fault fires on a message (its `match`, draw or trigger), the message's source
partition stalls for `duration_ms`: that message and every later message of the partition
are held, whatever `match` says and before any other fault is considered (`seizes`), until
the stall ends; then all of them are released at once, in their original order. Other
partitions are not touched. Unlike an outage, which holds only the messages it matches and
may shuffle its backlog, a stall holds the whole partition and never reorders it.

Each held message is a `stall` decision whose one copy is due when the stall ends, and the
fault floors the partition's order at that time (`floors_order`), so nothing of the
partition can overtake the held messages, not even a message a blast-radius cap let pass.
Nothing is held inside the plan: the runtime's release schedule holds the copies, as for a
delay.

A stall is not extended: while one is open the partition's messages are held, not drawn
for, so the fault cannot fire again until it has ended (docs/decisions/0181). The end is by
time, in `poll`, which the plan runs before every decision of the partition; `flush` (a stop,
the kill switch) ends it at once, and the plan lifts the floor with it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from chaosbus.injectors.base import FaultConfig
from chaosbus.injectors.envelope import Emission, Envelope
from chaosbus.injectors.injector import Injector, Told
from chaosbus.injectors.limits import MAX_DURATION_MS


class StallFault(FaultConfig):
    """A stuck connector shard: the partition of a fired message stops for `duration_ms`."""

    type: Literal["stall"] = "stall"
    duration_ms: int = Field(ge=1, le=MAX_DURATION_MS, strict=True)


@dataclass(frozen=True, slots=True)
class StallState:
    until_ms: int | None = None  # None: the partition flows


def apply(
    config: StallFault, envelope: Envelope, state: StallState, rng: random.Random, now_ms: int
) -> tuple[tuple[Emission, ...], StallState]:
    until = state.until_ms
    if until is None:
        until = now_ms + config.duration_ms
    return (Emission(envelope, 0, until, until - now_ms),), StallState(until)


def seizes(config: StallFault, state: StallState) -> bool:
    """While the partition is stalled, every message of it is held."""
    return state.until_ms is not None


def poll(
    config: StallFault, state: StallState, now_ms: int
) -> tuple[tuple[Emission, ...], StallState]:
    """End the stall once its time is up; its copies are already due then."""
    if state.until_ms is not None and now_ms >= state.until_ms:
        return (), StallState()
    return (), state


def flush(
    config: StallFault, state: StallState, now_ms: int
) -> tuple[tuple[Emission, ...], StallState]:
    return (), StallState()


def floors_order(config: StallFault) -> bool:
    return True


def explain(told: Told) -> str:
    return f"{told.event} held {told.late} by {told.by} (stalled partition)"


FAULT = Injector(
    config=StallFault,
    initial_state=StallState,
    apply=apply,
    explain=explain,
    poll=poll,
    flush=flush,
    seizes=seizes,
    floors_order=floors_order,
)
