"""The HTTP side of a run, without a network: the retry observation, its metrics and
anomalies, the conclusion over both sides, the HTTP ledger record and the plan's intensity."""

from __future__ import annotations

from chaosbus.clients.connection import KafkaSettings
from chaosbus.contracts.ledger_record import LedgerRecord
from chaosbus.experiment import parse_experiment
from chaosbus.experiment.bounds import Bound
from chaosbus.experiment.spec import ExperimentSpec
from chaosbus.injectors.http.log_record import LoggedRequest
from chaosbus.injectors.http.plan import HTTP_FAULT_TYPES, HttpPlan, HttpRequest
from chaosbus.injectors.http.spec import HttpFaultFile
from chaosbus.injectors.spec import BlastRadius
from chaosbus.monitors.probes.kind import ProbeContext
from chaosbus.monitors.report import Anomalies
from chaosbus.observability import Providers
from chaosbus.runner.http_side import HttpSide
from chaosbus.runner.http_verdict import with_retry_anomalies
from chaosbus.runner.live import LiveParts
from chaosbus.runner.observation import LiveObservation
from chaosbus.runner.observe import Observed
from chaosbus.runner.retry_observation import observe_retries
from chaosbus.runner.topic_side import TopicSide
from chaosbus.runner.verdict import Conclusion, conclude, judge
from chaosbus.streams.http.ledger import ledger_payload


def spec(max_attempts: int = 3) -> ExperimentSpec:
    return parse_experiment(
        {
            "name": "api",
            "hypothesis": "The retries are bounded.",
            "seed": 1,
            "schedule": {"inject_s": 5},
            "http_routes": [
                {
                    "name": "pricing",
                    "listen": "127.0.0.1:0",
                    "upstream": "http://127.0.0.1:9300",
                    "faults": [{"type": "error", "probability": 1, "status": 503}],
                    "retry_policy": {"max_attempts": max_attempts},
                }
            ],
        }
    )


def attempt(request_id: str, at_ms: int, status: int, sequence: int = 0) -> LoggedRequest:
    return LoggedRequest(
        route="pricing",
        sequence=sequence,
        request_id=request_id,
        method="POST",
        path="/price",
        arrived_at_ms=at_ms,
        fault="pass" if status < 400 else "error",
        fault_name=None,
        status=status,
        delivered=1 if status < 400 else 0,
        upstream_status=status if status < 400 else None,
        took_ms=3,
    )


FLAT = [attempt("a", t, 503) for t in (0, 100, 200, 300)] + [attempt("a", 400, 200)]
DOUBLING = [attempt("b", t, 503) for t in (0, 100, 300)] + [attempt("b", 700, 200)]


class TestObserveRetries:
    def test_nothing_logged_is_unknown(self) -> None:
        """Before any request, every retries.* is unknown and no anomaly is counted."""
        seen = observe_retries([], spec().http_routes)
        assert seen.metrics == {}
        assert seen.total == 0

    def test_a_flat_unbounded_retry_loop(self) -> None:
        """Five flat attempts against a bound of three: unbounded_retries and no_backoff."""
        seen = observe_retries(FLAT, spec().http_routes)
        assert seen.counts == {
            "unbounded_retries": 1,
            "no_backoff": 1,
            "retry_storm": 0,
            "retry_duplicate_effect": 0,
        }
        assert seen.metrics["retries.max_attempts"] == 5.0
        assert seen.metrics["retries.backoff_ratio"] == 1.0
        (example,) = seen.examples(5)["unbounded_retries"]
        assert example.detail == "[pricing] 5 attempts (bound 3)"

    def test_backoff_is_unknown_until_a_request_is_retried_twice(self) -> None:
        """Two attempts have one gap and no growth: backoff_ratio stays unknown, not 0."""
        seen = observe_retries([attempt("c", 0, 503), attempt("c", 50, 200)], spec().http_routes)
        assert "retries.backoff_ratio" not in seen.metrics
        assert seen.metrics["retries.max_attempts"] == 2.0


class TestBothSidesVerdict:
    def test_metrics_and_anomalies_resolve(self) -> None:
        """retries.* and the retry anomalies are metrics; anomalies.total counts them."""
        observed = Observed({}, retries=observe_retries(FLAT + DOUBLING, spec().http_routes))
        assert observed.value("retries.max_attempts") == 5.0
        assert observed.value("retries.backoff_ratio") == 1.5  # median of 1.0 and 2.0
        assert observed.value("anomalies.no_backoff") == 1.0
        assert observed.value("anomalies.total") == 3.0  # unbounded 2 + no_backoff 1

    def test_an_http_only_run_is_judged_on_its_request_log(self) -> None:
        """Violated names the retry anomalies; no request at all is an error, not a hold."""
        retries = observe_retries(FLAT, spec().http_routes)
        bounds = [Bound(metric="anomalies.total", max=0)]
        after = judge(bounds, Observed({}, retries=retries), "after")
        assert conclude(after, {}, retries=retries, topics=False) == Conclusion(
            "violated",
            "anomalies.total = 2 (expected ≤ 0) — retry anomalies: unbounded_retries 1, "
            "no_backoff 1",
        )
        empty = observe_retries([], spec().http_routes)
        assert conclude([], {}, retries=empty, topics=False).status == "error"

    def test_report_anomalies_carry_the_retry_counts(self) -> None:
        """The report's anomalies add the retry counts, and its total counts them."""
        retries = observe_retries(FLAT, spec().http_routes)
        merged = with_retry_anomalies(Anomalies(counts={}, examples={}), retries, 5)
        assert merged.counts["unbounded_retries"] == 1
        assert merged.total == 2


class TestHttpLedger:
    def test_a_request_becomes_a_ledger_record(self) -> None:
        """Route name, http:<name>, sequence as offset, the request id, http.<fault>."""
        entry = attempt("evt-1", 1_000, 503, sequence=7)
        record = LedgerRecord.from_bytes(ledger_payload(entry, "run-1"))
        assert (record.route, record.topic, record.partition, record.offset) == (
            "pricing",
            "http:pricing",
            0,
            7,
        )
        assert (record.event_id, record.key, record.fault) == ("evt-1", b"evt-1", "http.error")
        assert record.emissions == ()
        assert (record.decided_at_ms, record.completed_at_ms) == (1_000, 1_003)


class TestPlanIntensity:
    def test_intensity_zero_passes_and_counts_nothing_but_passes(self) -> None:
        """At intensity 0 (warm-up) a certain fault passes; at 1 it fires."""
        faults = HttpFaultFile.model_validate(
            {"faults": [{"type": "error", "probability": 1, "status": 503}]}
        ).faults
        plan = HttpPlan(faults, BlastRadius(), 1)
        request = HttpRequest("r", 0, "POST", "/", {}, b"", "id", 0)
        plan.intensity = 0.0
        assert plan.decide(request).fault == "pass"
        plan.intensity = 1.0
        assert plan.decide(request).fault == "error"
        assert (plan.counts["pass"], plan.counts["error"]) == (1, 1)


class TestLivePartsDriveHttp:
    async def test_intensity_and_stop_reach_the_http_plans(self) -> None:
        """The ramp sets the HTTP plans' intensity; stop_injecting (abort, kill) disables them."""
        kafka = KafkaSettings("127.0.0.1:1")
        probes = ProbeContext(kafka, "redis://127.0.0.1:1")
        live = LiveParts(
            LiveObservation(spec(), run_id="r", probes=probes, clock=lambda: 0),
            TopicSide(spec(), kafka=kafka, run_id="r", providers=Providers(None, None)),
            HttpSide(spec(), run_id="r", clock=lambda: 0),
        )
        (plan,) = live.http.plans.values()
        assert (plan.intensity, live.injecting) == (0.0, False)
        live.set_intensity(0.5)
        assert (plan.intensity, live.injecting) == (0.5, True)
        await live.stop_injecting()
        assert (plan.enabled, live.injecting) == (False, False)
        assert live.fault_counts() == {f"http.{k}": 0 for k in ("pass", *HTTP_FAULT_TYPES)}
