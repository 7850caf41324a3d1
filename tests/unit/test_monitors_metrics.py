"""Latency, staleness and time to recovery."""

from __future__ import annotations

import pytest

from chaosbus.monitors import LatencyRecorder, MonitorConfig, check, time_to_recovery
from chaosbus.monitors.testing import HistoryBuilder


class TestLatency:
    def test_percentiles_from_recorded_values(self) -> None:
        """p50 and p99 come from the HDR histogram of recorded milliseconds."""
        recorder = LatencyRecorder()
        recorder.extend(range(1, 101))
        summary = recorder.summary()
        assert (summary.p50, summary.p99, summary.count) == (50.0, 99.0, 100)

    def test_empty_recorder_reports_none(self) -> None:
        """No sample gives no percentile rather than a zero that looks like a measurement."""
        assert LatencyRecorder().summary().p50 is None

    def test_negative_latency_is_clamped(self) -> None:
        """Clock skew never records a negative latency."""
        recorder = LatencyRecorder()
        recorder.record(-5)
        assert recorder.summary().p50 == 0.0

    def test_effect_latency_is_first_effect_minus_source_timestamp(self) -> None:
        """Latency runs from the source timestamp to the first effect naming the event."""
        h = HistoryBuilder()
        event = h.event("a")
        h.effect(event, at_ms=event.timestamp_ms + 40)
        h.effect(event, at_ms=event.timestamp_ms + 90)
        config = MonitorConfig(source_topic="orders", model="once")
        assert check(h.build(), config).metrics.latency_ms.p50 == 40.0

    def test_entity_latency_uses_first_observation_of_the_version(self) -> None:
        """For the entity model, the first observation showing a version dates its arrival."""
        h = HistoryBuilder()
        event = h.event("a", 1)
        h.observe("a", None, at_ms=event.timestamp_ms + 5)
        h.observe("a", 1, at_ms=event.timestamp_ms + 25)
        h.observe("a", 1, at_ms=event.timestamp_ms + 99)
        config = MonitorConfig(source_topic="orders", model="entity", settle_ms=0)
        assert check(h.build(), config).metrics.latency_ms.p50 == 25.0


class TestStaleness:
    def test_versions_behind_max_and_mean(self) -> None:
        """One entity 2 versions behind, one current: max 2, mean 1."""
        h = HistoryBuilder()
        for version in (1, 2, 3):
            h.event("a", version)
        h.event("b", 1)
        h.observe("a", 1, at_ms=h.now_ms + 60_000)
        h.observe("b", 1, at_ms=h.now_ms + 60_000)
        config = MonitorConfig(source_topic="orders", model="entity", settle_ms=0)
        staleness = check(h.build(), config).metrics.staleness
        assert (staleness.max_versions_behind, staleness.mean_versions_behind) == (2, 1.0)


class TestTimeToRecovery:
    def test_recovery_is_first_clean_after_last_dirty(self) -> None:
        """Dirty until 12 s, clean from 13 s on for longer than the settle window."""
        checks = [(10_000, False), (12_000, False), (13_000, True), (20_000, True)]
        assert time_to_recovery(checks, injection_end_ms=10_000, settle_ms=5_000) == 3.0

    def test_never_clean_is_none(self) -> None:
        """A last check that is dirty means no recovery."""
        assert time_to_recovery([(1, True), (2, False)], 0, 0) is None

    def test_clean_not_held_long_enough_is_none(self) -> None:
        """Recovery must hold for the settle window before it counts."""
        checks = [(10_000, False), (11_000, True), (12_000, True)]
        assert time_to_recovery(checks, 10_000, settle_ms=5_000) is None

    def test_relapse_moves_recovery_later(self) -> None:
        """Clean, dirty again, then clean: recovery is after the relapse."""
        checks = [(1_000, True), (2_000, False), (3_000, True), (9_000, True)]
        assert time_to_recovery(checks, 0, settle_ms=1_000) == 3.0

    @pytest.mark.parametrize("checks", [[], [(5_000, True), (30_000, True)]])
    def test_no_dirty_check_recovers_at_injection_end(self, checks: list[tuple[int, bool]]) -> None:
        """Nothing to recover from is 0 s, if observed long enough; no checks at all is None."""
        expected = 0.0 if checks else None
        assert time_to_recovery(checks, 5_000, settle_ms=10_000) == expected
