"""HTTP faults, each one module: what each does to a request, the registry they are listed
in, and the plan that chooses among them with the topic plan's loop."""

from __future__ import annotations

import importlib
import pathlib
import random
from typing import get_args

import pytest

from chaosbus.injectors import http
from chaosbus.injectors.errors import SpecError
from chaosbus.injectors.http import (
    HTTP_FAULT_TYPES,
    HTTP_INJECTORS,
    Conduct,
    DuplicateFault,
    ErrorFault,
    HangFault,
    HangUp,
    HttpAction,
    HttpFault,
    HttpMatch,
    HttpPlan,
    HttpRequest,
    LatencyFault,
    Relay,
    ResetFault,
    Respond,
    TruncateFault,
    parse_http_fault_document,
)
from chaosbus.injectors.http.action import HttpInjector
from chaosbus.injectors.spec import BlastRadius, FixedDelay, UniformDelay


def request(sequence: int, *, method: str = "POST", body: bytes = b"{}") -> HttpRequest:
    return HttpRequest(
        route="api",
        sequence=sequence,
        method=method,
        path="/orders",
        headers={},
        body=body,
        request_id=f"r{sequence}",
        arrived_at_ms=sequence,
    )


class TestEachFault:
    def test_latency_waits_a_drawn_time_then_relays(self) -> None:
        """A latency draws its wait from its distribution and forwards once, whole."""
        fixed = LatencyFault(probability=1, distribution=FixedDelay(ms=250))
        assert HTTP_INJECTORS["latency"].act(fixed, random.Random(0)) == Conduct(250, Relay())
        drawn = LatencyFault(probability=1, distribution=UniformDelay(min_ms=10, max_ms=20))
        wait, reply = HTTP_INJECTORS["latency"].act(drawn, random.Random(4))
        assert (wait, reply) == (random.Random(4).randint(10, 20), Relay())

    def test_error_answers_without_the_service(self) -> None:
        """An error answers its status, body and Retry-After; without one, no header."""
        fault = ErrorFault(probability=1, status=429, retry_after_s=3, body="slow down")
        assert HTTP_INJECTORS["error"].act(fault, random.Random(0)) == Conduct(
            0, Respond(429, (("Retry-After", "3"),), "slow down")
        )
        plain = HTTP_INJECTORS["error"].act(ErrorFault(probability=1), random.Random(0))
        assert plain == Conduct(0, Respond(503))

    def test_hang_and_reset_hang_up_without_calling_the_service(self) -> None:
        """A hang waits `hang_ms` then hangs up; a reset hangs up at once."""
        assert HTTP_INJECTORS["hang"].act(
            HangFault(probability=1, hang_ms=1_500), random.Random(0)
        ) == Conduct(1_500, HangUp())
        assert HTTP_INJECTORS["reset"].act(ResetFault(probability=1), random.Random(0)) == (
            Conduct(0, HangUp())
        )

    def test_truncate_and_duplicate_relay_changed(self) -> None:
        """A truncate relays a share of the body; a duplicate calls the service 1 + copies."""
        cut = HTTP_INJECTORS["truncate"].act(
            TruncateFault(probability=1, keep_share=0.25), random.Random(0)
        )
        assert cut == Conduct(0, Relay(body_share=0.25))
        twice = HTTP_INJECTORS["duplicate"].act(
            DuplicateFault(probability=1, copies=2), random.Random(0)
        )
        assert twice == Conduct(0, Relay(deliveries=3))

    def test_only_a_relay_forwards(self) -> None:
        """The service sees the request for a relay only."""
        assert HttpAction("pass").forwards
        assert not HttpAction("error", reply=Respond(503)).forwards
        assert not HttpAction("reset", reply=HangUp()).forwards


class TestRegistry:
    def test_every_http_fault_module_is_listed_and_its_config_exported(self) -> None:
        """Each HTTP module that declares a `FAULT` is in the registry under its type, and its
        config class is a public name of `chaosbus.injectors.http`."""
        folder = pathlib.Path(http.__file__).parent
        declared = {}
        for path in sorted(folder.glob("*.py")):
            module = importlib.import_module(f"chaosbus.injectors.http.{path.stem}")
            if isinstance(getattr(module, "FAULT", None), HttpInjector):
                declared[path.stem] = module.FAULT
        assert declared == dict(HTTP_INJECTORS)
        for entry in HTTP_INJECTORS.values():
            assert getattr(http, entry.config.__name__) is entry.config

    def test_the_lists_derive_from_the_registry(self) -> None:
        """The types keep the order they were added in; the union holds every config."""
        assert HTTP_FAULT_TYPES == ("latency", "error", "hang", "reset", "truncate", "duplicate")
        members = set(get_args(get_args(HttpFault)[0]))
        assert members == {entry.config for entry in HTTP_INJECTORS.values()}

    def test_an_unknown_type_lists_the_known_ones(self) -> None:
        """An unknown HTTP fault type names the path and the known types, sorted."""
        with pytest.raises(SpecError) as caught:
            parse_http_fault_document({"faults": [{"type": "teleport", "probability": 1}]}, "t")
        assert caught.value.problems == [
            "faults[0].type: unknown fault type 'teleport' "
            "(known: duplicate, error, hang, latency, reset, truncate)"
        ]


class TestPlan:
    def plan(self, *faults: HttpFault, **blast: object) -> HttpPlan:
        return HttpPlan(faults, BlastRadius.model_validate(blast), 5)

    def test_the_chosen_fault_names_itself(self) -> None:
        """A chosen fault gives its type, its name (or faults[i]) and its conduct."""
        plan = self.plan(
            ErrorFault(probability=1, status=502, match=HttpMatch(method="GET")),
            HangFault(probability=1, hang_ms=10, name="stuck"),
        )
        assert plan.decide(request(0, method="GET")) == HttpAction(
            "error", "faults[0]", None, 0, Respond(502)
        )
        assert plan.decide(request(1)) == HttpAction("hang", "stuck", None, 10, HangUp())
        assert {kind: n for kind, n in plan.counts.items() if n} == {"error": 1, "hang": 1}

    def test_a_cap_turns_the_fault_into_a_named_pass(self) -> None:
        """Past `max_faults` the request passes, relayed once, the cap named as the reason."""
        plan = self.plan(ResetFault(probability=1), max_faults=2)
        actions = [plan.decide(request(i)) for i in range(4)]
        assert [(a.fault, a.reason) for a in actions] == [("reset", None)] * 2 + [
            ("pass", "max_faults")
        ] * 2
        assert actions[-1].reply == Relay()

    def test_intensity_zero_counts_no_trigger(self) -> None:
        """At intensity 0 nothing fires and a trigger counts nothing: `first: 2` still
        takes the first two requests decided after the warm-up."""
        plan = self.plan(ResetFault.model_validate({"trigger": {"first": 2}}))
        plan.intensity = 0.0
        assert [plan.decide(request(i)).fault for i in range(3)] == ["pass"] * 3
        plan.intensity = 1.0
        assert [plan.decide(request(i)).fault for i in range(3, 7)] == [
            "reset", "reset", "pass", "pass"
        ]  # fmt: skip
