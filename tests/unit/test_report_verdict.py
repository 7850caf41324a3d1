"""From observations to a verdict: metrics resolved, bounds judged, guardrails timed."""

from __future__ import annotations

from chaosbus.experiment import Bound, Guardrail
from chaosbus.monitors.report import Anomalies, Coverage, Latency, MonitorReport
from chaosbus.runner.guardrails import GuardrailWatch
from chaosbus.runner.observe import Observed
from chaosbus.runner.verdict import conclude, judge, merge_anomalies


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
        verdict = conclude(after, OBSERVED.reports)
        status, reason = verdict.status, verdict.reason
        assert (status, verdict.exit_code) == ("violated", 1)
        assert reason is not None
        assert "stale_overwrite 1, duplicate_effect 2" in reason

    def test_held(self) -> None:
        """Clean checks with something judged hold."""
        clean = Observed({"a": report({})})
        verdict = conclude(judge((), clean, "after"), clean.reports)
        assert (verdict.status, verdict.reason, verdict.exit_code) == ("held", None, 0)

    def test_nothing_judged_is_an_error(self) -> None:
        """A clean verdict over nothing is not a verdict."""
        empty = Observed({"a": report({}, judged=0)})
        assert conclude(judge((), empty, "after"), empty.reports).status == "error"

    def test_recovery_is_not_judged_before(self) -> None:
        """Before injection there is nothing to recover from."""
        bounds = (Bound(metric="time_to_recovery_s", max=5), Bound(metric="held", max=100))
        assert [r.metric for r in judge(bounds, OBSERVED, "before")] == ["held"]

    def test_examples_name_their_check(self) -> None:
        """Merged examples say which check (and so which probe) found them."""
        merged = merge_anomalies(OBSERVED.reports, 5)
        assert merged.counts["duplicate_effect"] == 2


def covered(judged_events: int, source_events: int, **counts: int) -> MonitorReport:
    unparsable = {"version": counts.pop("unparsable", 0)}
    return MonitorReport(
        model="entity",
        anomalies=Anomalies(counts=counts, examples={}),
        coverage=Coverage(
            judged=1,
            judged_events=judged_events,
            source_events=source_events,
            unparsable=unparsable,
        ),
    )


class TestCoverage:
    def test_drifted_source_is_inconclusive_never_held(self) -> None:
        """One judged event of 10,000, the rest unparsable: inconclusive, exit 4."""
        reports = {"orders": covered(1, 10_000, unparsable=9_999)}
        verdict = conclude(judge((), Observed(reports), "after"), reports)
        assert (verdict.status, verdict.exit_code) == ("inconclusive", 4)
        assert verdict.reason == (
            "check orders judged 1 of 10000 source events (0.0%, below the 95% needed): "
            "unparsable (version 9999)"
        )

    def test_failed_bounds_under_low_coverage_are_named_not_concluded(self) -> None:
        """Below the share, anomalies in the judged part are named but do not make a verdict."""
        reports = {"orders": covered(50, 100, unparsable=50, lost_event=2)}
        verdict = conclude(judge((), Observed(reports), "after"), reports)
        assert verdict.status == "inconclusive"
        assert verdict.reason is not None
        assert verdict.reason.endswith("; not judged: anomalies.total = 2 (expected ≤ 0)")

    def test_the_share_is_settable(self) -> None:
        """At 90 % judged, a spec asking for 0.9 holds; the default 95 % does not."""
        reports = {"orders": covered(90, 100, unparsable=10)}
        after = judge((), Observed(reports), "after")
        assert conclude(after, reports, min_judged_share=0.9).status == "held"
        assert conclude(after, reports).status == "inconclusive"

    def test_abort_comes_first(self) -> None:
        """An aborted run is aborted, whatever its coverage."""
        reports = {"orders": covered(1, 100)}
        verdict = conclude([], reports, abort_reason="guardrail held breached")
        assert (verdict.status, verdict.exit_code) == ("aborted", 3)

    def test_coverage_metrics_a_bound_may_name(self) -> None:
        """judged_share is recomputed over the summed counts; unparsable sums the extractors."""
        observed = Observed({"a": covered(90, 100, unparsable=4), "b": covered(10, 100)})
        assert observed.value("coverage.judged_share") == 0.5
        assert observed.value("coverage.judged_share", "a") == 0.9
        assert observed.value("coverage.unparsable") == 4
        assert observed.value("coverage.source_events") == 200
        bound = Bound(metric="coverage.unparsable", max=0)
        assert observed.judge(bound) == (4.0, False)


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


class TestPendingIsNotACoverageGap:
    def test_units_still_settling_leave_the_share(self) -> None:
        """Events of units settling when the window closed are out of the share's base."""
        coverage = Coverage(judged=1, judged_events=158, source_events=200, pending_events=42)
        assert coverage.judged_share == 1.0
