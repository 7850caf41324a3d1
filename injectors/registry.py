"""The injectors by fault type name: an explicit table, filled without import side effects.

Each entry bundles the pure functions of one injector module. Only `apply` is required;
the optional capabilities say what the plan must do besides: `flush`/`poll` for injectors
that hold messages, `held` to count what they hold, `forced` for injectors whose state can
take a message without a probability draw (a drop burst, an open outage), `observe` for
injectors that act on the partition's position (a replay due after N messages).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Generic, TypeVar

from chaosbus.injectors import (
    corrupt,
    delay,
    drop,
    duplicate,
    outage,
    reorder,
    replay,
    schema_drift,
)
from chaosbus.injectors.envelope import Emission, Envelope, SourceCoordinates

C = TypeVar("C")
S = TypeVar("S")

Emissions = tuple[Emission, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Injector(Generic[C, S]):
    name: str
    initial_state: Callable[[], S]
    apply: Callable[[C, Envelope, S, random.Random, int], tuple[Emissions, S]]
    flush: Callable[[C, S, int], tuple[Emissions, S]] | None = None
    poll: Callable[[C, S, int], tuple[Emissions, S]] | None = None
    held: Callable[[S], int] | None = None
    forced: Callable[[C, S], bool] | None = None
    observe: Callable[[C, S, SourceCoordinates, int], tuple[Emissions, S]] | None = None


def _no_state() -> None:
    return None


INJECTORS: Mapping[str, Injector[Any, Any]] = MappingProxyType(
    {
        "corrupt": Injector(name="corrupt", initial_state=_no_state, apply=corrupt.apply),
        "delay": Injector(name="delay", initial_state=_no_state, apply=delay.apply),
        "drop": Injector(
            name="drop", initial_state=drop.DropState, apply=drop.apply, forced=drop.forced
        ),
        "duplicate": Injector(name="duplicate", initial_state=_no_state, apply=duplicate.apply),
        "reorder": Injector(
            name="reorder",
            initial_state=reorder.ReorderState,
            apply=reorder.apply,
            flush=reorder.flush,
            poll=reorder.poll,
            held=reorder.held_count,
        ),
        "outage": Injector(
            name="outage",
            initial_state=outage.OutageState,
            apply=outage.apply,
            flush=outage.flush,
            poll=outage.poll,
            held=outage.held_count,
            forced=outage.forced,
        ),
        "replay": Injector(
            name="replay",
            initial_state=replay.ReplayState,
            apply=replay.apply,
            flush=replay.flush,
            held=replay.held_count,
            observe=replay.observe,
        ),
        "schema_drift": Injector(
            name="schema_drift", initial_state=_no_state, apply=schema_drift.apply
        ),
    }
)
