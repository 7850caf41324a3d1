"""Routes: one check (`contracts.routes.route_problem`) behind both surfaces, the proxy's
`--route` flags and an experiment file's `routes`, each wording it for its own input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from chaosbus.contracts.errors import ContractError, RouteError
from chaosbus.contracts.routes import Route, RouteProblem, route_problem
from chaosbus.errors import InvalidInput
from chaosbus.experiment import ExperimentInvalid, parse_experiment
from chaosbus.standalone.topics import parse_routes

SCENARIO = Path(__file__).resolve().parents[2] / "chaosbus" / "scenarios" / "duplicate-storm.yaml"
OWN = "topic 'chaosbus.x' is chaosbus's own (chaosbus.*); no route may read or write it"


def file_problems(routes: list[tuple[str, str]]) -> list[str]:
    doc: dict[str, Any] = json.loads(json.dumps(yaml.safe_load(SCENARIO.read_text())))
    doc["routes"] = [{"from": s, "to": d} for s, d in routes]
    doc["monitor"]["source_topic"] = routes[0][0]
    with pytest.raises(ExperimentInvalid) as caught:
        parse_experiment(doc, "x.yaml")
    return caught.value.problems


def flag_problem(routes: list[tuple[str, str]]) -> str:
    with pytest.raises(InvalidInput) as caught:
        parse_routes([f"{s}:{d}" for s, d in routes])
    return str(caught.value)


class TestRouteProblem:
    def test_in_order_into_itself_own_topic_shared_source_cycle(self) -> None:
        """Each kind is found, the per-route ones before those of the set."""
        assert route_problem([("a", "b"), ("c", "c")]) == RouteProblem("same_topic", 1, "c")
        assert route_problem([("a", "chaosbus.x")]) == RouteProblem(
            "own_topic", 0, "chaosbus.x", "to", OWN
        )
        assert route_problem([("a", "b"), ("a", "c")]) == RouteProblem("shared_source", 1, "a")
        assert route_problem([("a", "b"), ("b", "a")]) == RouteProblem(
            "cycle", detail="a -> b -> a"
        )
        assert route_problem([("a", "b"), ("b", "c")]) is None

    def test_also_names_further_own_topics(self) -> None:
        """A ledger of another name is as protected as chaosbus.*."""
        found = route_problem([("a", "my-ledger")], also=("my-ledger",))
        assert found is not None
        assert (found.kind, found.side) == ("own_topic", "to")

    def test_parse_refuses_bad_syntax_and_a_route_into_itself(self) -> None:
        """SOURCE:DESTINATION[@ID] or a RouteError, which is a ContractError."""
        assert Route.parse("a:b@pinned") == Route("a", "b", id="pinned")
        for text in ("a", "a:b:c", "a:b@", "a:a"):
            with pytest.raises(RouteError):
                Route.parse(text)
        assert issubclass(RouteError, ContractError)


class TestBothSurfaces:
    @pytest.mark.parametrize(
        ("routes", "in_file", "as_flags"),
        [
            (
                [("a", "a")],
                "routes[0]: from and to are the same topic",
                "route 'a:a': source and destination are the same topic",
            ),
            ([("a", "chaosbus.x")], f"routes[0].to: {OWN}", f"--route a:chaosbus.x: {OWN}"),
            (
                [("a", "b"), ("a", "c")],
                "routes: a source topic may feed only one route",
                "--route: source topic 'a' feeds more than one route",
            ),
            (
                [("a", "b"), ("b", "c"), ("c", "a")],
                "routes: routes form a cycle: a -> b -> c -> a",
                "--route: routes form a cycle: a -> b -> c -> a",
            ),
        ],
    )
    def test_the_same_routes_are_refused_in_each_surface_s_words(
        self, routes: list[tuple[str, str]], in_file: str, as_flags: str
    ) -> None:
        """The texts each surface printed before the check moved into the contracts."""
        assert file_problems(routes) == [in_file]
        assert flag_problem(routes) == as_flags


def file_dead_letter_problems(
    routes: list[tuple[str, str]], dead_letter: str, protected: tuple[str, ...] = ()
) -> list[str]:
    doc: dict[str, Any] = json.loads(json.dumps(yaml.safe_load(SCENARIO.read_text())))
    doc["routes"] = [
        {"from": s, "to": d, "on_undeliverable": {"dead_letter": dead_letter}} for s, d in routes
    ]
    doc["monitor"]["source_topic"] = routes[0][0]
    if protected:
        doc["blast_radius"] = {**doc.get("blast_radius", {}), "protected_topics": list(protected)}
    with pytest.raises(ExperimentInvalid) as caught:
        parse_experiment(doc, "x.yaml")
    return caught.value.problems


class TestDeadLetters:
    """Issue 21: a dead letter is a topic the route writes, checked as one (reproduction 7)."""

    @pytest.mark.parametrize(
        ("dead_letter", "detail"),
        [
            ("chaosbus.ledger", "chaosbus's own"),
            ("a", "the route's own source"),
            ("c", "the source of another route"),
            ("b", "the destination that refused the message"),
            ("bad name", "is not a topic name"),
        ],
    )
    def test_in_the_file_and_on_the_flags(self, dead_letter: str, detail: str) -> None:
        """Both surfaces refuse it, the file naming the path, the flags naming the flag."""
        routes = [("a", "b"), ("c", "d")]
        line = file_dead_letter_problems(routes, dead_letter)[0]  # both routes name it
        assert line.startswith("routes[0].on_undeliverable.dead_letter: ")
        assert detail in line
        with pytest.raises(InvalidInput) as caught:
            parse_routes(["a:b", "c:d"], f"dead_letter:{dead_letter}")
        assert str(caught.value).startswith(f"--on-undeliverable dead_letter:{dead_letter}")
        assert detail in str(caught.value)

    def test_a_configured_ledger_is_refused_on_the_flags(self) -> None:
        """A ledger of another name is as much chaosbus's own for a dead letter."""
        with pytest.raises(InvalidInput, match="chaosbus's own"):
            parse_routes(["a:b"], "dead_letter:my-ledger", ledger_topic="my-ledger")

    def test_a_protected_topic_in_the_file(self) -> None:
        """`blast_radius.protected_topics` covers the dead letter as it covers `to`."""
        (line,) = file_dead_letter_problems([("a", "b")], "payments.dlq", ("payments.*",))
        assert line == (
            "routes[0].on_undeliverable.dead_letter: topic 'payments.dlq' is protected (payments.*)"
        )

    def test_a_topic_of_its_own_is_accepted(self) -> None:
        """The ordinary case passes both surfaces."""
        assert route_problem([("a", "b")], dead_letters=["a.dlq"]) is None
        (route,) = parse_routes(["a:b"], "dead_letter:a.dlq")
        assert route.dead_letter == "a.dlq"
