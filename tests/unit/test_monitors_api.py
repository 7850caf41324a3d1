"""The monitors package's public names."""

from __future__ import annotations

from chaosbus import monitors
from chaosbus.monitors.anomalies import COUNT_NAMES, PRECEDENCE


class TestPublicApi:
    def test_all_is_pinned(self) -> None:
        """The public names change only on purpose: this list is the contract."""
        assert sorted(monitors.__all__) == sorted(
            [
                "ANOMALY_NAMES",
                "COUNT_NAMES",
                "PRECEDENCE",
                "Anomalies",
                "AnomalyExample",
                "Coordinates",
                "Cause",
                "Coverage",
                "Effect",
                "Extractor",
                "ExtractorConfig",
                "HeaderField",
                "History",
                "JsonEquals",
                "JsonField",
                "Latency",
                "LatencyRecorder",
                "LedgerDecision",
                "LiveChecker",
                "Metrics",
                "MonitorConfig",
                "MonitorReport",
                "Number",
                "Observation",
                "SourceEvent",
                "Staleness",
                "check",
                "compile_extractors",
                "time_to_recovery",
            ]
        )

    def test_every_public_name_exists(self) -> None:
        """Each name in __all__ is importable from the package."""
        for name in monitors.__all__:
            assert hasattr(monitors, name), name

    def test_anomaly_names_are_the_architecture_names(self) -> None:
        """Counts use exactly the names of ARCHITECTURE §3, `applied_garbage` (issue 13), the
        service's own `stalled_consumer` (issue 12), the two drop counts and the two
        corruption counts."""
        assert set(COUNT_NAMES) == {
            "duplicate_effect",
            "lost_event",
            "stale_overwrite",
            "resurrected",
            "divergent_entity",
            "unrecovered",
            "dropped_expected",
            "dropped_reconciled",
            "applied_garbage",
            "corrupted_expected",
            "corrupted_reconciled",
            "stalled_consumer",
        }
        assert PRECEDENCE[-1] == "divergent_entity"


class TestReportRoundTrip:
    def test_anomalies_load_back_from_their_own_json(self) -> None:
        """The JSON an Anomalies writes (with derived total and clean) validates back."""
        from chaosbus.monitors.report import Anomalies

        written = Anomalies(counts={"duplicate_effect": 2}, examples={}).model_dump_json()
        loaded = Anomalies.model_validate_json(written)
        assert loaded.counts == {"duplicate_effect": 2}
        assert loaded.total == 2
