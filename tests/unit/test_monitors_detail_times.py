"""Times in an anomaly's detail line are said as the rest of the report says them: seconds
since the run started."""

from __future__ import annotations

from chaosbus.monitors import MonitorConfig, check
from chaosbus.monitors.report import MonitorReport
from chaosbus.monitors.testing import HistoryBuilder

CONFIG = MonitorConfig(source_topic="orders", model="entity", settle_ms=1_000)
STARTED_MS = 1_796_612_979_628  # the run's start: the report's zero


def series(*seen: tuple[int, int], origin_ms: int | None) -> MonitorReport:
    """Versions 4 and 5 of one order, then the service showing `seen` (ms after the start,
    version): a version going down, repaired by the last observation."""
    h = HistoryBuilder(start_ms=STARTED_MS + 100)
    h.event("o-1", 4)
    h.event("o-1", 5)
    for after_ms, version in seen:
        h.observe("o-1", version, at_ms=STARTED_MS + after_ms)
    return check(h.build(), CONFIG, origin_ms=origin_ms)


def detail(report: MonitorReport) -> str:
    [example] = report.anomalies.examples["stale_overwrite"]
    return example.detail


class TestSeriesDetail:
    def test_seconds_since_the_run_started(self) -> None:
        """`v5 observed at 5.5 s, then v4 at 6.2 s`, not epoch milliseconds."""
        report = series((5_500, 5), (6_173, 4), (7_000, 5), origin_ms=STARTED_MS)
        assert detail(report) == "v5 observed at 5.5 s, then v4 at 6.2 s"

    def test_close_times_keep_their_order_visible(self) -> None:
        """Two observations 40 ms apart get the decimals that tell them apart."""
        report = series((5_510, 5), (5_550, 4), (7_000, 5), origin_ms=STARTED_MS)
        assert detail(report) == "v5 observed at 5.51 s, then v4 at 5.55 s"

    def test_without_a_start_the_instants_are_epoch_milliseconds(self) -> None:
        """A caller with no run start (a live snapshot, a library user) gets instants."""
        report = series((5_500, 5), (6_173, 4), (7_000, 5), origin_ms=None)
        assert detail(report) == (
            f"v5 observed at {STARTED_MS + 5_500} ms, then v4 at {STARTED_MS + 6_173} ms"
        )
