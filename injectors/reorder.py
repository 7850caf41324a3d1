"""Reorder: hold selected messages and release them as a shuffled group.

The plan keeps one `ReorderState` per (fault, partition). A selected message joins the
partition's buffer; when the buffer reaches `window` messages all of them are released at
once, in an order shuffled by the RNG of the decision that filled it. So reordering is
always a permutation inside one window: nothing is lost and nothing moves further than the
window.

With `within_ms`, a buffer whose oldest message has waited that long is released by `poll`
(shuffled too) even if it is not full, so a quiet partition does not hold messages forever.
`poll` has no decision RNG of its own, so the decision that opened the buffer draws a
shuffle seed for it; the expiry order is therefore as reproducible as the window order.
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
from chaosbus.injectors.limits import MAX_DURATION_MS, MAX_WINDOW


class ReorderFault(FaultConfig):
    type: Literal["reorder"] = "reorder"
    window: int = Field(default=10, ge=2, le=MAX_WINDOW, strict=True)
    within_ms: int | None = Field(default=None, ge=1, le=MAX_DURATION_MS, strict=True)


@dataclass(frozen=True, slots=True)
class ReorderState:
    held: tuple[Held, ...] = ()
    shuffle_seed: int = 0  # drawn when the buffer opens; used if it expires by time


def apply(
    config: ReorderFault, envelope: Envelope, state: ReorderState, rng: random.Random, now_ms: int
) -> tuple[tuple[Emission, ...], ReorderState]:
    seed = state.shuffle_seed if state.held else rng.getrandbits(64)
    held = (*state.held, Held(envelope, now_ms))
    if len(held) >= config.window:
        return release(held, rng, now_ms), ReorderState()
    return (), ReorderState(held, seed)


def poll(
    config: ReorderFault, state: ReorderState, now_ms: int
) -> tuple[tuple[Emission, ...], ReorderState]:
    """Release the buffer if its oldest message has waited `within_ms` or more."""
    if config.within_ms is None or not state.held:
        return (), state
    if now_ms - state.held[0].held_at_ms < config.within_ms:
        return (), state
    return release(state.held, random.Random(state.shuffle_seed), now_ms), ReorderState()


def flush(
    config: ReorderFault, state: ReorderState, now_ms: int
) -> tuple[tuple[Emission, ...], ReorderState]:
    """Release everything held in arrival order: stopping must not add more disorder."""
    return release(state.held, None, now_ms), ReorderState()


def held_count(state: ReorderState) -> int:
    return len(state.held)


def explain(told: Told) -> str:
    return f"{told.event} held back {told.late} by {told.by} (reorder)"


FAULT = Injector(
    config=ReorderFault,
    initial_state=ReorderState,
    apply=apply,
    explain=explain,
    flush=flush,
    poll=poll,
    held=held_count,
)
