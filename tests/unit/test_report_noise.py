"""Reports without noise: an example once with all its classes; the service's lag in words."""

from __future__ import annotations

from chaosbus.monitors.lag import ServiceProgress, Stall
from chaosbus.monitors.report import Anomalies, AnomalyExample, Coverage, MonitorReport
from chaosbus.report import RunReport, to_html, to_markdown
from tests.unit.test_report_render import sample

STALE = AnomalyExample(
    unit="o-7",
    event_ids=("e1", "e2"),
    expected=3,
    observed=2,
    detail="holds v2, expected v3",
)


def noisy() -> RunReport:
    """A stale unit that never recovered: the JSON lists it under both names."""
    anomalies = Anomalies(
        counts={"stale_overwrite": 1, "unrecovered": 1},
        examples={"stale_overwrite": (STALE,), "unrecovered": (STALE,)},
    )
    service = ServiceProgress(
        group="orders-service",
        topic="orders",
        samples=40,
        lag_max=57,
        recovered_s=1.5,
        caught_up=True,
        stalls=(
            Stall(partition=2, offset=130, lag=12, since_ms=0, duration_ms=6_000, ongoing=False),
        ),
    )
    coverage = Coverage(events=10, source_events=10, outside_where=20, without_amount=3)
    check = MonitorReport(model="counter", anomalies=anomalies, coverage=coverage)
    return sample().model_copy(
        update={"anomalies": anomalies, "service": service, "checks": {"paid": check}}
    )


class TestExamplesOnce:
    def test_markdown_lists_the_example_once_naming_both_classes(self) -> None:
        """`stale_overwrite` and `unrecovered` are one example, not two."""
        text = to_markdown(noisy())
        assert text.count("unit `o-7`") == 1
        assert "Examples of `unrecovered`" not in text
        assert "(also `unrecovered`)" in text

    def test_html_lists_the_example_once_naming_both_classes(self) -> None:
        """One row, its anomaly cell naming both classes."""
        page = to_html(noisy())
        assert page.count("<code>o-7</code>") == 1
        assert "<td>stale_overwrite, unrecovered</td>" in page


class TestServiceLag:
    LINES = (
        "consumer group `orders-service` on `orders`: lag at most 57 messages (40 samples); "
        "caught up 1.5 s after the injection ended",
        "stalled: partition 2 at offset 130 for 6 s with 12 messages waiting",
    )

    def test_markdown_has_the_service_section(self) -> None:
        """The lag the JSON carries under `service` is said in the Markdown too."""
        text = to_markdown(noisy())
        assert "## Service\n\n" + "\n".join(f"- {line}" for line in self.LINES) in text

    def test_html_has_the_service_section(self) -> None:
        """And in the HTML page (escaped)."""
        page = to_html(noisy())
        assert '<h2>Service</h2><ul id="service">' in page
        assert "stalled: partition 2 at offset 130 for 6 s" in page


class TestCoverageNotes:
    def test_markdown_and_html_say_what_where_left_out(self) -> None:
        """Under the coverage table: the events outside `where`, those without amount."""
        outside = "20 source messages outside `where`"
        text, page = to_markdown(noisy()), to_html(noisy())
        assert f"- `paid`: {outside}" in text
        assert "- `paid`: 3 events without an amount: judged, each adding nothing" in text
        assert "20 source messages outside `where`" in page
