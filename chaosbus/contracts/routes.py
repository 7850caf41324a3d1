"""A route: the topic the automation writes and the topic the service reads, and what makes a
set of routes wrong.

Routes come from two surfaces: the proxy's `--route SOURCE:DESTINATION[@ID]` flags and an
experiment file's `routes: [{from, to}]`. Both are checked by `route_problem` here, so a
route set one surface accepts the other accepts too; each surface words the problem for its
own input (a flag, a path in the file).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from chaosbus.contracts.errors import RouteError
from chaosbus.contracts.ledger_record import route_name
from chaosbus.injectors.protection import describe_cycle, find_cycle, own_topic_problem


@dataclass(frozen=True, slots=True)
class Route:
    source: str
    destination: str
    # What decisions are keyed on, with the partition and offset: the source topic unless
    # pinned, so a run on `ci-123.orders` replays decision for decision on `orders`.
    id: str | None = None
    # on_undeliverable: None fails the route (the default); a topic name dead-letters there.
    dead_letter: str | None = None

    @property
    def name(self) -> str:
        return route_name(self.source, self.destination)

    @property
    def route_id(self) -> str:
        return self.id or self.source

    @classmethod
    def parse(cls, text: str) -> Route:
        """SOURCE:DESTINATION, optionally @ID to pin the route id decisions are keyed on."""
        spec, at, pinned = text.partition("@")
        source, sep, destination = spec.partition(":")
        if not sep or not source or not destination or ":" in destination or (at and not pinned):
            raise RouteError(
                f"route {text!r}: expected SOURCE:DESTINATION[@ID], e.g. orders.nocode:orders"
            )
        problem = route_problem([(source, destination)])
        if problem is not None and problem.kind == "same_topic":
            raise RouteError(f"route {text!r}: source and destination are the same topic")
        return cls(source=source, destination=destination, id=pinned or None)


ProblemKind = Literal["same_topic", "own_topic", "shared_source", "cycle"]


@dataclass(frozen=True, slots=True)
class RouteProblem:
    """The first thing wrong with a set of routes.

    `index` is the route at fault (None for the set as a whole: a cycle); `topic` the topic
    at fault and `side` which end of the route it is; `detail` the sentence both surfaces
    say as it is (why a topic is chaosbus's own, the cycle drawn as `a -> b -> a`).
    """

    kind: ProblemKind
    index: int | None = None
    topic: str | None = None
    side: Literal["from", "to"] = "from"
    detail: str = ""


def route_problem(
    routes: Sequence[tuple[str, str]], *, also: Iterable[str] = ()
) -> RouteProblem | None:
    """What is wrong with `routes` (source, destination pairs), or None.

    Checked in this order: a route into itself; then, route by route, a topic chaosbus owns
    (`also`: further topics of its own, e.g. a ledger topic of another name) and a source
    that already feeds an earlier route; then a cycle through the routes.
    """
    owned = tuple(also)
    for index, (source, destination) in enumerate(routes):
        if source == destination:
            return RouteProblem("same_topic", index, source)
    seen: set[str] = set()
    for index, (source, destination) in enumerate(routes):
        ends: tuple[tuple[Literal["from", "to"], str], ...] = (
            ("from", source),
            ("to", destination),
        )
        for side, topic in ends:
            problem = own_topic_problem(topic, also=owned)
            if problem is not None:
                return RouteProblem("own_topic", index, topic, side, problem)
        if source in seen:
            return RouteProblem("shared_source", index, source)
        seen.add(source)
    cycle = find_cycle(list(routes))
    if cycle is not None:
        return RouteProblem("cycle", detail=describe_cycle(cycle))
    return None
