"""From observations to a verdict: metrics resolved, bounds judged, guardrails timed."""

from __future__ import annotations

from chaosbus.experiment import Bound, Guardrail
from chaosbus.runner.guardrails import GuardrailWatch
from chaosbus.runner.observe import Observed
from chaosbus.runner.verdict import judge, merge_anomalies, status_of
from monitors.report import Anomalies, Coverage, Latency, MonitorReport


def report(counts: dict[str, int], judged: int = 5) -> MonitorReport:
    return MonitorReport(
        model="entity",
        anomalies=Anomalies(counts=counts, examples={}),
        coverage=Coverage(judged=judged),
    )


OBSERVED = Observed(
    {"a": report({"duplicate_effect": 2}), "b": report({"stale_overwrite": 1})},
    faults={"pass": 10, "duplicate": 4, "drop": 1},
    held=7,
    latency=Latency(p50=10, p99=90, count=3),
)


class TestMetrics:
    def test_sums_and_filters(self) -> None:
        """Anomalies add up across checks, or count one check when a bound names it."""
        assert OBSERVED.value("anomalies.total") == 3
        assert OBSERVED.value("anomalies.total", "a") == 2
        assert OBSERVED.value("anomalies.stale_overwrite") == 1
        assert OBSERVED.value("faults.injected") == 5
        assert OBSERVED.value("held") == 7
        assert OBSERVED.value("latency_ms.p99") == 90


class TestVerdict:
    def test_default_steady_state_is_no_anomaly(self) -> None:
        """Without declared bounds, any anomaly violates the hypothesis and is named."""
        after = judge((), OBSERVED, "after")
        status, reason = status_of(after, OBSERVED.reports)
        assert status == "violated"
        assert reason is not None
        assert "stale_overwrite 1, duplicate_effect 2" in reason

    def test_held(self) -> None:
        """Clean checks with something judged hold."""
        clean = Observed({"a": report({})})
        assert status_of(judge((), clean, "after"), clean.reports) == ("held", None)

    def test_nothing_judged_is_an_error(self) -> None:
        """A clean verdict over nothing is not a verdict."""
        empty = Observed({"a": report({}, judged=0)})
        status, _ = status_of(judge((), empty, "after"), empty.reports)
        assert status == "error"

    def test_recovery_is_not_judged_before(self) -> None:
        """Before injection there is nothing to recover from."""
        bounds = (Bound(metric="time_to_recovery_s", max=5), Bound(metric="held", max=100))
        assert [r.metric for r in judge(bounds, OBSERVED, "before")] == ["held"]

    def test_examples_name_their_check(self) -> None:
        """Merged examples say which check (and so which probe) found them."""
        merged = merge_anomalies(OBSERVED.reports, 5)
        assert merged.counts["duplicate_effect"] == 2


class TestGuardrails:
    def test_breach_must_last_for_s(self) -> None:
        """A breach aborts only once it has lasted `for_s`; a break resets the clock."""
        watch = GuardrailWatch([Guardrail(metric="held", max=5, for_s=1)])
        assert watch.update(OBSERVED, 0) is None
        assert watch.update(OBSERVED, 900) is None
        assert watch.update(Observed({}, held=0), 950) is None
        assert watch.update(OBSERVED, 1_000) is None
        breach = watch.update(OBSERVED, 2_000)
        assert breach is not None
        assert breach.describe() == "guardrail held breached: observed 7, bound ≤ 5 for 1 s"
        assert watch.worst[0] == 7

    def test_unknown_value_never_aborts(self) -> None:
        """No latency sample yet is not a latency breach."""
        watch = GuardrailWatch([Guardrail(metric="latency_ms.p99", max=1)])
        assert watch.update(Observed({}, latency=Latency()), 0) is None
