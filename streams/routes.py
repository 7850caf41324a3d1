"""A route: the topic the automation writes and the topic the service reads."""

from __future__ import annotations

from dataclasses import dataclass

from streams.errors import RouteError
from streams.ledger_record import route_name


@dataclass(frozen=True, slots=True)
class Route:
    source: str
    destination: str

    @property
    def name(self) -> str:
        return route_name(self.source, self.destination)

    @classmethod
    def parse(cls, text: str) -> Route:
        source, sep, destination = text.partition(":")
        if not sep or not source or not destination or ":" in destination:
            raise RouteError(
                f"route {text!r}: expected SOURCE:DESTINATION, e.g. orders.nocode:orders"
            )
        if source == destination:
            raise RouteError(f"route {text!r}: source and destination are the same topic")
        return cls(source=source, destination=destination)
