"""A route: the topic the automation writes and the topic the service reads, and what makes a
set of routes wrong.

Routes come from two surfaces: the proxy's `--route SOURCE:DESTINATION[@ID]` flags and an
experiment file's `routes: [{from, to}]`. Both are checked by `route_problem` here, so a
route set one surface accepts the other accepts too; each surface words the problem for its
own input (a flag, a path in the file).

A route's dead-letter topic (`on_undeliverable: {dead_letter: TOPIC}`, the proxy's
`--on-undeliverable dead_letter:TOPIC`) is a topic the route writes, so it passes the
same checks as its destination (issue 21): never chaosbus's own, never a topic a route
reads (its own source or another's: a refused message would go round again, each lap
dead-lettered anew), and never the destination that refused the message.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from chaosbus.contracts.errors import RouteError
from chaosbus.contracts.ledger_record import route_name
from chaosbus.injectors.protection import (
    describe_cycle,
    find_cycle,
    own_topic_problem,
    topic_name_problem,
)


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


ProblemKind = Literal["same_topic", "own_topic", "shared_source", "cycle", "dead_letter"]
Side = Literal["from", "to", "dead_letter"]


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
    side: Side = "from"
    detail: str = ""


def route_problem(
    routes: Sequence[tuple[str, str]],
    *,
    also: Iterable[str] = (),
    dead_letters: Sequence[str | None] = (),
) -> RouteProblem | None:
    """What is wrong with `routes` (source, destination pairs), or None.

    `dead_letters[i]` is route i's dead-letter topic (None: none; shorter than `routes`:
    the rest have none). Checked in this order: a route into itself; then, route by route,
    a topic chaosbus owns (`also`: further topics of its own, e.g. a ledger topic of
    another name), a source that already feeds an earlier route; then a cycle through the
    routes; then each dead letter (`dead_letter_problem`).
    """
    owned = tuple(also)
    for index, (source, destination) in enumerate(routes):
        if source == destination:
            return RouteProblem("same_topic", index, source)
    seen: set[str] = set()
    for index, (source, destination) in enumerate(routes):
        ends: tuple[tuple[Side, str], ...] = (("from", source), ("to", destination))
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
    for index, dead_letter in enumerate(dead_letters):
        if dead_letter is not None:
            found = dead_letter_problem(routes, index, dead_letter, also=owned)
            if found is not None:
                return found
    return None


def dead_letter_problem(
    routes: Sequence[tuple[str, str]], index: int, topic: str, *, also: Iterable[str] = ()
) -> RouteProblem | None:
    """What is wrong with `topic` as route `index`'s dead letter, or None."""
    source, destination = routes[index]
    name_problem = topic_name_problem(topic)
    if name_problem is not None:
        return RouteProblem("dead_letter", index, topic, "dead_letter", name_problem)
    owned = own_topic_problem(topic, also=also)
    if owned is not None:
        return RouteProblem("own_topic", index, topic, "dead_letter", owned)
    if topic == source:
        detail = (
            f"topic {topic!r} is the route's own source: each refused message would be read "
            "again, refused again and dead-lettered again, without end"
        )
        return RouteProblem("dead_letter", index, topic, "dead_letter", detail)
    feeds = next((s for i, (s, _) in enumerate(routes) if s == topic and i != index), None)
    if feeds is not None:
        detail = (
            f"topic {topic!r} is the source of another route: refused messages would be "
            "routed (and faulted) again"
        )
        return RouteProblem("dead_letter", index, topic, "dead_letter", detail)
    if topic == destination:
        detail = f"topic {topic!r} is the destination that refused the message"
        return RouteProblem("dead_letter", index, topic, "dead_letter", detail)
    return None
