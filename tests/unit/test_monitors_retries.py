"""The retry verdict over request logs whose numbers are known exactly."""

from __future__ import annotations

from chaosbus.injectors.http.log_record import LoggedRequest
from chaosbus.monitors.retries import (
    NO_BACKOFF,
    RETRY_DUPLICATE_EFFECT,
    RETRY_STORM,
    UNBOUNDED_RETRIES,
    RetryPolicy,
    gap_growth,
    judge_retries,
)


def attempt(
    request_id: str, at_ms: int, status: int | None = 503, upstream: int | None = None
) -> LoggedRequest:
    return LoggedRequest(
        route="api",
        sequence=0,
        request_id=request_id,
        method="POST",
        path="/orders",
        arrived_at_ms=at_ms,
        fault="error" if upstream is None else "pass",
        fault_name=None,
        status=status,
        delivered=0 if upstream is None else 1,
        upstream_status=upstream,
        took_ms=1,
    )


def attempts_at(request_id: str, times: list[int], *, succeed_last: bool) -> list[LoggedRequest]:
    out = [attempt(request_id, t) for t in times]
    if succeed_last:
        out[-1] = attempt(request_id, times[-1], status=200, upstream=200)
    return out


class TestGapGrowth:
    def test_doubling_gaps_grow_by_two(self) -> None:
        """Gaps 100, 200, 400 grow by exactly 2."""
        assert gap_growth([0, 100, 300, 700]) == 2.0

    def test_flat_gaps_do_not_grow(self) -> None:
        """A fixed delay grows by 1."""
        assert gap_growth([0, 500, 1000, 1500]) == 1.0

    def test_two_attempts_say_nothing(self) -> None:
        """One gap has no growth to measure."""
        assert gap_growth([0, 500]) is None


class TestVerdict:
    def test_bounded_exponential_retries_are_clean(self) -> None:
        """Five attempts with doubling gaps, then success: no anomaly, exact metrics."""
        verdict = judge_retries(
            attempts_at("r1", [0, 100, 300, 700, 1500], succeed_last=True), RetryPolicy()
        )
        assert verdict.findings == ()
        assert verdict.metrics["retries.max_attempts"] == 5.0
        assert verdict.metrics["retries.backoff_ratio"] == 2.0
        assert verdict.metrics["retries.gave_up"] == 0.0

    def test_unbounded_flat_retries_are_caught(self) -> None:
        """Twelve attempts 1 s apart, all failing: unbounded_retries and no_backoff."""
        times = [i * 1000 for i in range(12)]
        verdict = judge_retries(attempts_at("r1", times, succeed_last=False), RetryPolicy())
        assert verdict.counts() == {
            UNBOUNDED_RETRIES: 1,
            NO_BACKOFF: 1,
            RETRY_STORM: 0,
            RETRY_DUPLICATE_EFFECT: 0,
        }
        unbounded = next(f for f in verdict.findings if f.anomaly == UNBOUNDED_RETRIES)
        assert unbounded.detail == "12 attempts (bound 8), never succeeded"
        assert verdict.metrics["retries.gave_up"] == 1.0
        assert verdict.metrics["retries.backoff_ratio"] == 1.0

    def test_storm_counts_retries_per_second_while_failing(self) -> None:
        """50 requests each retried 4 times within 2 s of failures: 100 retries/s."""
        log = [attempt(f"r{n}", n * 10 + k * 500) for n in range(50) for k in range(5)]
        verdict = judge_retries(log, RetryPolicy(max_attempts=10, max_storm_rps=20))
        # Failures span 0 .. 490 + 2000 ms = 2.49 s; 200 retries in it.
        assert verdict.metrics["retries.storm_rps"] == 200 / 2.49
        assert verdict.counts()[RETRY_STORM] == 1

    def test_accepted_twice_is_a_duplicate_effect(self) -> None:
        """A retry after a lost answer that the service accepted again is named."""
        log = [attempt("r1", 0, status=None, upstream=200), attempt("r1", 400, 200, 200)]
        verdict = judge_retries(log, RetryPolicy())
        (finding,) = verdict.findings
        assert finding.anomaly == RETRY_DUPLICATE_EFFECT
        assert finding.detail == "the service accepted it 2 times over 2 attempts"
        assert verdict.metrics["retries.delivered_twice"] == 1.0
