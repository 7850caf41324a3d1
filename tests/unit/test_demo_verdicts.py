"""The demo's own logic without services: its names, what it must show, and its table."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from chaosbus.clients.connection import KafkaSettings
from chaosbus.monitors.report import Anomalies, AnomalyExample, Metrics
from chaosbus.report import RunReport
from chaosbus_demo.display import side_by_side
from chaosbus_demo.expectations import Verdict, problems
from chaosbus_demo.plan import DemoPlan
from chaosbus_demo.run import DemoResult
from chaosbus_demo.services import Kind

COUNTS = ("resurrected", "stale_overwrite", "duplicate_effect", "lost_event", "unrecovered")


def report(name: str, status: str, found: dict[str, AnomalyExample] | None = None) -> RunReport:
    found = found or {}
    anomalies = Anomalies(
        counts={kind: 3 if kind in found else 0 for kind in COUNTS},
        examples={kind: (example,) for kind, example in found.items()},
    )
    return RunReport.model_validate(
        {
            "name": name,
            "hypothesis": "h",
            "status": status,
            "reason": None if status == "held" else "anomalies.total = 3 (expected ≤ 0)",
            "run_id": "r",
            "seed": 1,
            "actor": "demo",
            "started_at": "2026-01-01T00:00:00+00:00",
            "duration_s": 1.0,
            "routes": [],
            "hypotheses": [],
            "anomalies": anomalies,
            "faults": {"pass": 90, "duplicate": 10},
            "metrics": Metrics(),
            "guardrails": [],
            "checks": {},
            "phases": [],
            "timeline": [],
        }
    )


def example(unit: str, expected: object, observed: object) -> AnomalyExample:
    return AnomalyExample.model_validate(
        {
            "unit": unit,
            "event_ids": ("e",),
            "expected": expected,
            "observed": observed,
            "detail": "",
        }
    )


DUPLICATE = {"duplicate_effect": example("c-03", 72099.0, 104097.0)}
STALE = {"stale_overwrite": example("o-7", "v4", "v3")}


def verdict(
    experiment: str, service: Kind, status: str, found: dict[str, AnomalyExample]
) -> Verdict:
    return Verdict(experiment, service, report(experiment, status, found))


def shown() -> list[Verdict]:
    """What the demo should show: each experiment catches the naive service, safe holds."""
    return [
        verdict("duplicate-storm", "naive", "violated", DUPLICATE),
        verdict("duplicate-storm", "safe", "held", {}),
        verdict("out-of-order-updates", "naive", "violated", STALE),
        verdict("out-of-order-updates", "safe", "held", {}),
    ]


class TestExpectations:
    def test_naive_caught_and_safe_held_is_what_the_demo_shows(self) -> None:
        """No problem, exit 0."""
        assert problems(shown()) == []
        result = DemoResult("r", Path("out"), tuple(shown()), (), interrupted=False)
        assert result.exit_code == 0

    def test_a_safe_service_that_fails_is_named(self) -> None:
        """The reason says which experiment, which service, and what it was instead."""
        verdicts = shown()
        verdicts[3] = verdict("out-of-order-updates", "safe", "violated", STALE)
        assert problems(verdicts) == [
            "out-of-order-updates: ledger-safe was violated, expected held "
            "(anomalies.total = 3 (expected ≤ 0))"
        ]

    def test_a_naive_service_that_holds_is_a_failed_demo(self) -> None:
        verdicts = shown()
        verdicts[0] = verdict("duplicate-storm", "naive", "held", {})
        assert problems(verdicts) == ["duplicate-storm: ledger-naive was held, expected violated"]

    def test_each_experiment_must_provoke_its_own_anomaly(self) -> None:
        """A duplicate storm that only shows stale overwrites has not shown duplicates."""
        verdicts = shown()
        verdicts[0] = verdict("duplicate-storm", "naive", "violated", STALE)
        [problem] = problems(verdicts)
        assert "without duplicate_effect" in problem

    def test_an_interrupted_demo_exits_3(self) -> None:
        result = DemoResult("r", Path("out"), (), ("x",), interrupted=True)
        assert result.exit_code == 3


class TestTable:
    def render(self, verdicts: list[Verdict]) -> str:
        console = Console(width=160, record=True, file=None, force_terminal=False)
        with console.capture() as captured:
            console.print(side_by_side(verdicts))
        return captured.get()

    def test_each_row_shows_verdict_counts_and_an_example(self) -> None:
        text = self.render(shown())
        assert text.count("VIOLATED") == 2
        assert text.count("HELD") == 2
        assert "duplicate_effect 3" in text
        # Sums read as whole cents, not floats.
        assert "duplicate_effect: c-03: 72099 → 104097" in text
        assert "stale_overwrite: o-7: v4 → v3" in text
        assert "duplicate 10" in text


class TestPlan:
    def test_every_run_and_experiment_has_names_of_its_own(self) -> None:
        """Fresh topics, groups and key prefixes: a second demo never reads the first."""
        a, b = DemoPlan("aaaa"), DemoPlan("bbbb")
        assert set(a.topics).isdisjoint(b.topics)
        first, second = a.stages
        assert first.destination != second.destination
        prefixes = {s.prefix(kind) for s in (*a.stages, *b.stages) for kind in ("naive", "safe")}
        assert len(prefixes) == 8
        configs = first.services(kafka=KafkaSettings("b"), redis_url="r")
        assert {c.group for c in configs} == {
            "demo-aaaa.duplicate-storm.ledger-naive",
            "demo-aaaa.duplicate-storm.ledger-safe",
        }
        assert {c.topic for c in configs} == {first.destination}
