"""One topic fault described whole: the shape of a registry entry.

Each fault module ends with `FAULT = Injector(...)`, and `injectors.registry` lists them. What
an entry says, and who reads it:

* `config`: the pydantic model of its YAML (its `type` literal is the fault's name); the
  `Fault` union and `FAULT_TYPES` are derived from the entries (`injectors.registry`).
* `apply(config, envelope, state, rng, now_ms) -> (emissions, state)`: the only required
  behaviour, pure; `initial_state()` is the state of a partition it has not touched.
* Capabilities, for the plan (`injectors.plan`, `injectors.holding`), each absent when the
  fault does not need it:
  - `poll`/`flush`: release what it holds inside the plan, by time or all of it (a stop, the
    kill switch); `held(state)`: how many copies it holds;
  - `observe`: act on the partition's position before each decision (a replay due after N);
  - `forced(config, state)`: take a message it matches without a draw (a drop burst, an
    open outage);
  - `seizes(config, state)`: take every message of the partition, matched or not, before
    any other fault (a stalled shard);
  - `extra_copies(config)`: copies it adds to one message, which the blast radius's
    `max_copies_per_message` caps;
  - `floors_order(config)`: no later message of the partition may be released before the
    copies it emits (a `preserve_order` delay, a stall).
* For the monitors: `garbage(variant)`, whether a copy it ledgered under that variant is one
  a correct service must refuse (`monitors.index`); `explain(told)`, the sentence that says
  in a cause what it did to one event (`monitors.causes`); `ledgered`, the variants of the
  copies one typical decision writes to the ledger, for hand-written histories
  (`monitors.testing`).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from chaosbus.injectors.base import FaultConfig, type_name
from chaosbus.injectors.envelope import Emission, Envelope, SourceCoordinates

C = TypeVar("C", bound=FaultConfig)
S = TypeVar("S")

Emissions = tuple[Emission, ...]


@dataclass(frozen=True, slots=True)
class Told:
    """What a cause knows of one faulted delivery, in words, for a fault's sentence."""

    event: str  # "v3", "deleted@v4", "event e-17"
    by: str  # "fault `slow-creates`"
    late: str  # the longest wait of its copies: "9.1 s", "0.7 s (planned)", "an unknown time"
    copies: str  # how many times it was sent and which copies, or "not copied"


def no_state() -> None:
    """The state of a fault that keeps none."""


def no_copies(config: object) -> int:
    return 0


def never(subject: object) -> bool:
    return False


@dataclass(frozen=True, slots=True, kw_only=True)
class Injector(Generic[C, S]):
    config: type[C]
    initial_state: Callable[[], S]
    apply: Callable[[C, Envelope, S, random.Random, int], tuple[Emissions, S]]
    explain: Callable[[Told], str]
    flush: Callable[[C, S, int], tuple[Emissions, S]] | None = None
    poll: Callable[[C, S, int], tuple[Emissions, S]] | None = None
    held: Callable[[S], int] | None = None
    observe: Callable[[C, S, SourceCoordinates, int], tuple[Emissions, S]] | None = None
    forced: Callable[[C, S], bool] | None = None
    seizes: Callable[[C, S], bool] | None = None
    extra_copies: Callable[[C], int] = no_copies
    floors_order: Callable[[C], bool] = never
    garbage: Callable[[str], bool] = never
    ledgered: tuple[str | None, ...] = (None,)

    @property
    def name(self) -> str:
        """The fault's `type`: in the YAML, the ledger's `fault` and the counts."""
        return type_name(self.config)
