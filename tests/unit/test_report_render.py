"""The run report: its JSON contract, the Markdown, and the self-contained HTML."""

from __future__ import annotations

import json
from pathlib import Path

from chaosbus.monitors.report import Anomalies, AnomalyExample, Metrics, MonitorReport
from chaosbus.report import (
    GuardrailResult,
    HypothesisResult,
    PhaseSpan,
    RunReport,
    TimelinePoint,
    to_html,
    to_markdown,
    write_report,
)
from chaosbus.report.write import sibling


def sample(status: str = "violated") -> RunReport:
    anomalies = Anomalies(
        counts={"duplicate_effect": 2, "lost_event": 0},
        examples={
            "duplicate_effect": (
                AnomalyExample(
                    unit="c-01",
                    event_ids=("e1",),
                    expected=100,
                    observed=200,
                    detail="counter above its expected sum by +100",
                ),
            )
        },
    )
    return RunReport.model_validate(
        {
            "name": "duplicate-storm",
            "hypothesis": "Every payment is counted once.",
            "status": status,
            "reason": "anomalies.total = 2 (expected ≤ 0)",
            "run_id": "abc",
            "seed": 42,
            "actor": "ci",
            "started_at": "2026-01-01T00:00:00+00:00",
            "duration_s": 9.5,
            "routes": ["orders.nocode -> orders"],
            "hypotheses": [
                HypothesisResult(
                    name="anomalies.total",
                    metric="anomalies.total",
                    threshold="≤ 0",
                    observed=2,
                    held=False,
                    phase="after",
                )
            ],
            "anomalies": anomalies,
            "faults": {"pass": 90, "duplicate": 10},
            "metrics": Metrics(),
            "guardrails": [
                GuardrailResult(
                    name="held", metric="held", threshold="≤ 10", for_s=1, worst=3, breached=False
                )
            ],
            "checks": {"paid": MonitorReport(model="counter", anomalies=anomalies)},
            "phases": [
                PhaseSpan(name="warmup", start_s=0, end_s=1),
                PhaseSpan(name="inject", start_s=1, end_s=4),
            ],
            "timeline": [
                TimelinePoint(
                    t_s=float(t),
                    phase="inject",
                    faults_per_s=3,
                    forwarded_per_s=30,
                    anomalies=t,
                    anomalies_per_s=1,
                    latency_p99_ms=None if t == 0 else 120.0,
                    held=0,
                    intensity=1.0,
                )
                for t in range(4)
            ],
        }
    )


class TestContract:
    def test_json_has_the_architecture_fields(self) -> None:
        """status, hypotheses, anomalies, faults (with pass), metrics, seed, run_id, timeline."""
        doc = json.loads(sample().model_dump_json())
        for name in ("status", "hypotheses", "anomalies", "faults", "metrics", "seed", "run_id"):
            assert name in doc
        assert doc["faults"]["pass"] == 90
        assert doc["anomalies"]["total"] == 2
        assert doc["timeline"][1]["latency_p99_ms"] == 120.0

    def test_exit_codes(self) -> None:
        """held 0, violated 1, error 2, aborted 3."""
        codes = {s: sample(s).exit_code for s in ("held", "violated", "error", "aborted")}
        assert codes == {"held": 0, "violated": 1, "error": 2, "aborted": 3}


class TestRenderings:
    def test_markdown_names_the_verdict_and_the_evidence(self) -> None:
        """The Markdown leads with the verdict and shows each anomaly's examples."""
        text = to_markdown(sample())
        assert text.startswith("# duplicate-storm — VIOLATED\n")
        assert "| **duplicate_effect** | 2 |" in text
        assert "unit `c-01` (events `e1`): expected 100, observed 200" in text

    def test_markdown_counts_faults_each_cap_suppressed(self) -> None:
        """The faults section shows passes a blast-radius cap forced, by cap, when any."""
        report = sample().model_copy(
            update={"faults_suppressed": {"max_faults": 0, "max_faults_per_s": 7}}
        )
        text = to_markdown(report)
        assert "| pass: suppressed by `max_faults_per_s` | 7 |" in text
        assert "suppressed by `max_faults`" not in text

    def test_markdown_shows_crash_redeliveries_apart_from_faults(self) -> None:
        """Copies re-sent after an interposer restart get their own row, only when any."""
        text = to_markdown(sample().model_copy(update={"redelivered": 42}))
        assert (
            "| re-delivered after an interposer restart (at-least-once), not a fault | 42 |" in text
        )
        assert "re-delivered after" not in to_markdown(sample())

    def test_html_is_self_contained(self) -> None:
        """plotly.js is inline: no script is fetched from the network."""
        page = to_html(sample())
        assert "<script src=" not in page
        assert "Plotly" in page
        assert "duplicate-storm" in page

    def test_write_report_puts_three_files_side_by_side(self, tmp_path: Path) -> None:
        """out.json, out.md and out.html, the JSON parseable back into the model."""
        written = write_report(sample(), tmp_path / "out.json")
        assert [p.name for p in written] == ["out.json", "out.md", "out.html"]
        assert RunReport.model_validate_json(written[0].read_text()) == sample()
        assert sibling(Path("report"), ".md") == Path("report.md")


def with_cause() -> RunReport:
    """A report whose one example carries a cause, from the batch checker itself."""
    from chaosbus.monitors import MonitorConfig, check
    from chaosbus.monitors.testing import HistoryBuilder

    h = HistoryBuilder(start_ms=1_000_000)
    h.event("<o&1>", 1, fault="delay", delay_ms=9_000, fault_name="slow-<creates>")
    h.event("<o&1>", 2)
    h.observe("<o&1>", 1, at_ms=h.now_ms + 30_000)
    checked = check(h.build(), MonitorConfig(source_topic=h.topic, model="entity"))
    return sample().model_copy(
        update={
            "anomalies": checked.anomalies,
            "checks": {"state": checked},
            "started_ms": 1_000_000,
            "name": "<b>out-of-order</b>",
        }
    )


class TestHtmlPage:
    def test_examples_link_to_their_point_and_ledger_rows(self) -> None:
        """Each example links to #point-N beside the plot and #ledger-M rows that exist."""
        page = to_html(with_cause())
        assert '<td id="example-1">1</td>' in page
        assert '<a href="#point-1">9.01 s</a>' in page
        assert '<li id="point-1" value="1">' in page
        assert '<a href="#ledger-1">L1</a>, <a href="#ledger-2">L2</a>' in page
        assert '<td id="ledger-1">L1</td>' in page
        assert '<td id="ledger-2">L2</td>' in page
        assert 'id="verdict"' in page

    def test_everything_from_the_report_is_escaped(self) -> None:
        """Names, units and fault names with markup are shown as text, never as HTML."""
        page = to_html(with_cause())
        assert "<b>out-of-order</b>" not in page
        assert "&lt;b&gt;out-of-order&lt;/b&gt;" in page
        assert "&lt;o&amp;1&gt;" in page
        assert "slow-&lt;creates&gt;" in page
        assert "<o&1>" not in page
