"""What a probe kind is: one registered thing with its config model, its shape and its opener.

A check reads the service downstream in one of three shapes:

| shape     | reads                                          | a read returns                   |
| --------- | ---------------------------------------------- | -------------------------------- |
| `state`   | the service's state per entity (a key, a row)  | one observation per entity       |
| `listing` | every effect so far (a table, an endpoint)     | the effects not listed before    |
| `topic`   | an effects topic the service writes            | the messages since the last read |

Every kind opens to a `ProbeReader`, an async context manager with one method, `read`, so
the runner reads every check one way, live or after the fact. Where a read of effects
starts is the host's to say (`ProbeContext.from_now`): a live run takes only effects from
the moment it opens (a listing's first read is its baseline, a topic is read from its
end), `chaosbus check` takes everything so far and keeps what names its window's events.

A kind module declares `KIND = ProbeKind(...)`; `monitors.probes.registry` lists them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Generic, Literal, Protocol, TypeAlias, TypeVar

from pydantic import BaseModel

from chaosbus.clients.connection import KafkaSettings
from chaosbus.monitors.effect_snapshots import EffectSnapshots
from chaosbus.monitors.history import Effect, Observation

Shape = Literal["state", "listing", "topic"]
C = TypeVar("C", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class ProbeContext:
    """What opening a probe takes from the run rather than from the experiment file."""

    kafka: KafkaSettings  # where effects topics are read
    redis_url: str = field(repr=False)  # the service's Redis; may carry a password
    # Put before every Redis key: one file judges several services sharing a Redis.
    key_prefix: str = ""
    # True: effects from the opening on (a live run); False: every effect so far (check).
    from_now: bool = True


@dataclass(frozen=True, slots=True)
class Reading:
    """One read of a check's probe: observations (state) or effects, and the effects
    messages that named no event (`unreadable`, topics only)."""

    observations: Sequence[Observation] = ()
    effects: Sequence[Effect] = ()
    unreadable: int = 0


class ProbeReader(Protocol):
    async def read(self, entities: Sequence[str], now_ms: int) -> Reading:
        """Read once at `now_ms`; `entities` are those a state probe observes."""
        ...


class StateProbe(Protocol):
    """Reads the service's state per entity; never writes. A value it cannot read as a
    number is counted in `unparsable` and left out (the entity reads as unobserved)."""

    unparsable: int

    async def observe(self, entities: Sequence[str], now_ms: int) -> list[Observation]:
        """One observation per readable entity, taken at `now_ms`; None means absent."""
        ...


class EffectsListing(Protocol):
    """Lists every effect the service performed so far, each naming its event."""

    unparsable: int

    async def effects(self, now_ms: int) -> list[Effect]:
        """Every effect listed now, each seen at `now_ms`."""
        ...


# What a kind's opener returns: the reader, once entered with `async with`.
OpenedReader: TypeAlias = AbstractAsyncContextManager[ProbeReader]


@dataclass(frozen=True, slots=True, kw_only=True)
class ProbeKind(Generic[C]):
    """One probe kind: `kind: <name>` in a file, its config model, its shape for a given
    config (http and sql read state or effects depending on their template), and how to
    open it for a check."""

    name: str
    config: type[C]
    shape: Callable[[C], Shape]
    open: Callable[[C, ProbeContext], OpenedReader]


class _StateReader:
    def __init__(self, probe: StateProbe) -> None:
        self._probe = probe

    async def read(self, entities: Sequence[str], now_ms: int) -> Reading:
        return Reading(observations=await self._probe.observe(entities, now_ms))


class _ListingReader:
    def __init__(self, listing: EffectsListing, snapshots: EffectSnapshots) -> None:
        self._listing = listing
        self._snapshots = snapshots

    async def read(self, entities: Sequence[str], now_ms: int) -> Reading:
        return Reading(effects=self._snapshots.new(await self._listing.effects(now_ms)))


S = TypeVar("S", bound=StateProbe)
L = TypeVar("L", bound=EffectsListing)


@asynccontextmanager
async def state_reader(probe: AbstractAsyncContextManager[S]) -> AsyncIterator[ProbeReader]:
    """The reader of a state probe: each read observes the entities it is given."""
    async with probe as opened:
        yield _StateReader(opened)


@asynccontextmanager
async def listing_reader(
    listing: AbstractAsyncContextManager[L], *, from_now: bool
) -> AsyncIterator[ProbeReader]:
    """The reader of an effects listing: each read returns what was not listed before;
    `from_now` makes a first read on opening the baseline (its times do not matter)."""
    async with listing as opened:
        baseline = await opened.effects(0) if from_now else []
        yield _ListingReader(opened, EffectSnapshots(baseline))
