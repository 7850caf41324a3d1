"""chaosbus.experiment.http_routes: `http_routes` beside `routes`, validated with paths."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from chaosbus.errors import InvalidInput
from chaosbus.experiment import ExperimentInvalid, parse_experiment, with_overrides
from chaosbus.experiment.sides import describe_sides, reaim_http, request_log_beside
from chaosbus.monitors.retries import RetryPolicy
from chaosbus.scenarios import load_experiment_or_scenario


def http_only(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "name": "api",
        "hypothesis": "The retries are bounded.",
        "seed": 1,
        "schedule": {"inject_s": 5},
        "http_routes": [
            {
                "name": "pricing",
                "listen": "127.0.0.1:9301",
                "upstream": "http://127.0.0.1:9300",
                "faults": [{"type": "error", "probability": 0.5, "status": 503}],
            }
        ],
    }
    doc.update(changes)
    return doc


def route(**changes: Any) -> dict[str, Any]:
    return {**http_only()["http_routes"][0], **changes}


def problems(doc: dict[str, Any]) -> list[str]:
    with pytest.raises(ExperimentInvalid) as caught:
        parse_experiment(doc, "x.yaml")
    return caught.value.problems


class TestHttpRouteSpec:
    def test_an_http_only_experiment_needs_no_route_fault_or_monitor(self) -> None:
        """No `routes`, `faults` nor `monitor`: the HTTP side alone is an experiment."""
        spec = parse_experiment(http_only())
        (only,) = spec.http_routes
        assert (only.host, only.port, only.id_header) == ("127.0.0.1", 9301, "idempotency-key")
        assert spec.routes == ()
        assert spec.faults == ()
        assert spec.monitor.checks == ()
        assert only.retry_policy.policy() == RetryPolicy()

    def test_listen_and_upstream_are_checked(self) -> None:
        """A listen address without a port and a non-HTTP upstream are one line each."""
        doc = http_only(http_routes=[route(listen="localhost", upstream="ftp://x")])
        assert problems(doc) == [
            "http_routes[0].listen: expected HOST:PORT (got 'localhost')",
            "http_routes[0].upstream: expected an http(s) URL (got 'ftp://x')",
        ]

    def test_http_faults_use_the_http_fault_schema(self) -> None:
        """An HTTP fault's path runs through the route: http_routes[0].faults[0]…"""
        doc = http_only(
            http_routes=[route(faults=[{"type": "error", "probability": 1, "status": 200}])]
        )
        assert problems(doc) == [
            "http_routes[0].faults[0].status: input should be greater than or equal to 400 "
            "(got 200)"
        ]

    def test_retry_policy_limits(self) -> None:
        """A policy is within the limits: at least one attempt, a ratio of at most 100."""
        doc = http_only(
            http_routes=[route(retry_policy={"max_attempts": 0, "min_backoff_ratio": 1000.0})]
        )
        assert problems(doc) == [
            "http_routes[0].retry_policy.max_attempts: input should be greater than or equal "
            "to 1 (got 0)",
            "http_routes[0].retry_policy.min_backoff_ratio: at most 100 (got 1000; "
            "limits: docs/limits.md)",
        ]

    def test_two_routes_may_not_share_a_name_or_an_address(self) -> None:
        """Names and listen addresses are unique across http_routes."""
        twice = http_only(http_routes=[route(), route(listen="127.0.0.1:9302")])
        assert problems(twice) == ["http_routes[1].name: 'pricing' used twice"]
        same = http_only(http_routes=[route(), route(name="crm")])
        assert problems(same) == [
            "http_routes[1].listen: 127.0.0.1:9301 is also http_routes[0].listen"
        ]


class TestBothSides:
    def test_nothing_to_run(self) -> None:
        """Neither routes nor http_routes: one line at routes."""
        assert problems(http_only(http_routes=[])) == [
            "routes: declare routes (topics), http_routes (HTTP), or both"
        ]

    def test_topic_faults_need_a_topic_route(self) -> None:
        """A topic fault in an HTTP-only file has nothing to act on."""
        doc = http_only(faults=[{"type": "drop", "probability": 0.1}])
        assert problems(doc) == [
            "faults: topic faults need a topic route (HTTP faults go in http_routes[].faults)"
        ]

    def test_topic_routes_need_a_monitor(self) -> None:
        """With a topic route, the monitor is required as before."""
        doc = http_only(routes=[{"from": "a.in", "to": "a.out"}])
        assert problems(doc) == ["monitor: required with topic routes, with at least one check"]

    def test_retry_metrics_need_an_http_route(self) -> None:
        """A bound on retries.* in a topic-only experiment could never be known."""
        spec = load_experiment_or_scenario("duplicate-storm")
        doc = spec.model_dump(mode="json", by_alias=True, exclude_none=True)
        doc["steady_state"] = [{"metric": "retries.max_attempts", "max": 8}]
        assert problems(doc) == [
            "steady_state[0].metric: retries.max_attempts is measured on http_routes, "
            "and there is none"
        ]


class TestSides:
    def test_flaky_api_is_http_only(self) -> None:
        """The shipped flaky-api scenario has one HTTP route and no topic route."""
        spec = load_experiment_or_scenario("flaky-api")
        assert spec.routes == ()
        assert [r.name for r in spec.http_routes] == ["pricing"]
        assert describe_sides(spec) == "2 HTTP faults on 1 HTTP route"

    def test_reaim_moves_the_one_http_route(self) -> None:
        """--http-listen / --http-upstream replace the route's fields and are validated."""
        spec = load_experiment_or_scenario("flaky-api")
        moved = reaim_http(spec, "127.0.0.1:0", "http://10.0.0.1:80")
        assert (moved.http_routes[0].listen, moved.http_routes[0].upstream) == (
            "127.0.0.1:0",
            "http://10.0.0.1:80",
        )
        assert with_overrides(spec, http_upstream="https://api").http_routes[0].port == 9301
        with pytest.raises(InvalidInput, match=r"^--http-upstream: expected an http\(s\) URL"):
            reaim_http(spec, None, "pricing")

    def test_the_request_log_sits_beside_the_report(self) -> None:
        """out/run.json → out/run.requests.jsonl (a path without .json gets it appended)."""
        assert request_log_beside(Path("out/run.json")) == Path("out/run.requests.jsonl")
        assert request_log_beside(Path("out/run")) == Path("out/run.requests.jsonl")
