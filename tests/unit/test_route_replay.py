"""Replay on another topic: decisions keyed on (seed, route id, partition, offset)."""

from __future__ import annotations

import pytest

from chaosbus.contracts.errors import RouteError
from chaosbus.contracts.routes import Route
from chaosbus.injectors import FaultPlan, parse_fault_document
from chaosbus.injectors.testing import envelope

FAULTS = {
    "faults": [
        {"type": "drop", "probability": 0.2},
        {"type": "duplicate", "probability": 0.3, "copies": 1},
    ]
}


def decisions(topic: str, route_id: str | None, seed: int = 11) -> list[tuple[int, int, str]]:
    plan = FaultPlan.from_file(parse_fault_document(FAULTS, "test"), seed=seed, route_id=route_id)
    return [
        (
            partition,
            offset,
            plan.decide(envelope(offset, partition=partition, topic=topic), 0).fault,
        )
        for partition in range(3)
        for offset in range(200)
    ]


class TestRouteId:
    def test_same_seed_and_route_id_on_another_topic_decides_the_same(self) -> None:
        """A CI topic and a laptop topic pinned to one route id get identical decisions."""
        ci = decisions("ci-123.orders", "orders")
        laptop = decisions("orders", "orders")
        assert ci == laptop
        assert {fault for _, _, fault in ci} == {"pass", "drop", "duplicate"}

    def test_the_route_id_defaults_to_the_source_topic(self) -> None:
        """Unpinned, a plan on `orders` decides as one pinned to `orders` anywhere."""
        assert decisions("orders", None) == decisions("elsewhere", "orders")
        assert decisions("ci-123.orders", None) != decisions("orders", None)

    def test_route_parse_pins_an_id_after_at(self) -> None:
        """`SRC:DST@ID` pins the id; without it the id is the source topic."""
        pinned = Route.parse("ci-123.orders:ci-123.svc@orders")
        assert (pinned.source, pinned.destination, pinned.route_id) == (
            "ci-123.orders",
            "ci-123.svc",
            "orders",
        )
        assert Route.parse("a:b").route_id == "a"
        with pytest.raises(RouteError):
            Route.parse("a:b@")
