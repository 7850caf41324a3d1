"""The topic policy: shapes of the topics chaosbus creates, and where its settings come from."""

from __future__ import annotations

import pytest

from chaosbus.errors import InvalidInput
from chaosbus.experiment.loader import ExperimentInvalid, parse_experiment
from chaosbus.scenarios import load_experiment_or_scenario
from chaosbus.settings import resolve_topic_policy
from chaosbus.streams.topics import DEFAULT_LEDGER_RETENTION_MS, TopicPolicy, TopicShape
from tests.cli_runner import chaosbus


class TestTopicPolicy:
    def test_defaults_defer_replication_to_the_broker(self) -> None:
        """No setting: no replication factor is sent (the broker's default applies)."""
        policy = TopicPolicy()
        assert policy.shape("ledger") == TopicShape(
            3, None, {"cleanup.policy": "delete", "retention.ms": "604800000"}
        )
        assert policy.shape("parked") == TopicShape(
            1,
            None,
            {
                "cleanup.policy": "compact",
                "segment.ms": "3600000",
                "delete.retention.ms": "3600000",
            },
        )
        assert policy.shape("destination", 6) == TopicShape(6, None, {})

    def test_settings_reach_every_kind(self) -> None:
        """Replication and min.insync.replicas apply to all three kinds of topic."""
        policy = TopicPolicy(replication_factor=3, min_insync_replicas=2, ledger_retention_ms=-1)
        shapes = [policy.shape("ledger"), policy.shape("parked"), policy.shape("destination", 2)]
        assert [s.replication_factor for s in shapes] == [3, 3, 3]
        assert [s.config["min.insync.replicas"] for s in shapes] == ["2", "2", "2"]
        assert shapes[0].config["retention.ms"] == "-1"

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"replication_factor": 0}, "replication factor 0"),
            ({"ledger_retention_ms": 0}, "ledger retention 0 ms"),
            ({"replication_factor": 2, "min_insync_replicas": 3}, "exceeds the replication"),
        ],
    )
    def test_incoherent_settings_are_refused(self, kwargs: dict[str, int], message: str) -> None:
        """A policy that would create an unusable topic is refused before any request."""
        with pytest.raises(ValueError, match=message):
            TopicPolicy(**kwargs)


class TestResolveTopicPolicy:
    def test_flag_beats_environment_beats_file(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Field by field: the flag, else the environment, else the experiment file."""
        monkeypatch.setenv("CHAOSBUS_TOPIC_REPLICATION", "2")
        monkeypatch.setenv("CHAOSBUS_LEDGER_RETENTION_MS", "1000")
        file = {"replication_factor": 5, "ledger_retention_ms": 9, "min_insync_replicas": 1}
        assert resolve_topic_policy(3, file=file) == TopicPolicy(3, 1000, 1)
        assert resolve_topic_policy(file=file) == TopicPolicy(2, 1000, 1)
        monkeypatch.delenv("CHAOSBUS_TOPIC_REPLICATION")
        monkeypatch.delenv("CHAOSBUS_LEDGER_RETENTION_MS")
        assert resolve_topic_policy(file=file) == TopicPolicy(5, 9, 1)
        assert resolve_topic_policy() == TopicPolicy(None, DEFAULT_LEDGER_RETENTION_MS, None)

    def test_a_malformed_variable_is_one_line(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """A variable that is not a number names itself and its value."""
        monkeypatch.setenv("CHAOSBUS_TOPIC_REPLICATION", "three")
        with pytest.raises(InvalidInput, match="CHAOSBUS_TOPIC_REPLICATION='three'"):
            resolve_topic_policy()

    def test_an_incoherent_combination_is_invalid_input(self) -> None:
        """Settings that are each valid but clash together are invalid input (exit 2)."""
        with pytest.raises(InvalidInput, match=r"internal topics: min\.insync\.replicas 3"):
            resolve_topic_policy(2, min_insync_replicas=3)


class TestInternalTopicsSpec:
    def spec_data(self, internal_topics: object) -> dict[str, object]:
        data = load_experiment_or_scenario("duplicate-storm").model_dump(by_alias=True)
        data["internal_topics"] = internal_topics
        return data

    def test_the_section_is_read(self) -> None:
        """An experiment file sets replication and retention of the topics its run creates."""
        data = self.spec_data({"replication_factor": 3, "ledger_retention_ms": 86_400_000})
        spec = parse_experiment(data, "x.yaml")
        assert spec.internal_topics.replication_factor == 3
        assert spec.internal_topics.ledger_retention_ms == 86_400_000

    def test_errors_name_the_path(self) -> None:
        """A minimum in-sync count above the replication factor is named by its path."""
        data = self.spec_data({"replication_factor": 1, "min_insync_replicas": 2})
        with pytest.raises(ExperimentInvalid, match=r"internal_topics\.min_insync_replicas"):
            parse_experiment(data, "x.yaml")


class TestProxyOptions:
    def test_unknown_compression_is_one_line(self) -> None:
        """--compression names the codecs it knows; exit 2 before any connection."""
        outcome = chaosbus("proxy", "--route", "a:b", "--compression", "brotli")
        assert outcome.code == 2
        assert outcome.last_error_line == (
            "chaosbus: --compression 'brotli': expected none, gzip, snappy, lz4, zstd"
        )

    def test_bad_replication_variable_is_one_line(self) -> None:
        """A malformed CHAOSBUS_TOPIC_REPLICATION stops the proxy with one line, exit 2."""
        outcome = chaosbus("proxy", "--route", "a:b", env={"CHAOSBUS_TOPIC_REPLICATION": "all"})
        assert outcome.code == 2
        assert outcome.last_error_line == (
            "chaosbus: CHAOSBUS_TOPIC_REPLICATION='all': expected a whole number"
        )

    def test_local_up_refuses_a_cluster_too_large(self) -> None:
        """--brokers beyond what the local stack supports: one line, exit 2."""
        outcome = chaosbus("local", "up", "--brokers", "9")
        assert outcome.code == 2
        assert outcome.last_error_line == "chaosbus: --brokers 9: expected 1 to 5"
