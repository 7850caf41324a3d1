"""A route: the topic the automation writes and the topic the service reads."""

from __future__ import annotations

from dataclasses import dataclass

from chaosbus.streams.errors import RouteError
from chaosbus.streams.ledger_record import route_name


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
        if source == destination:
            raise RouteError(f"route {text!r}: source and destination are the same topic")
        return cls(source=source, destination=destination, id=pinned or None)
