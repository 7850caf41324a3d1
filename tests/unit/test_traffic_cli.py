"""The traffic commands without a broker: generate, fidelity, init --from-recording, refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from chaosbus.cli import app
from chaosbus.clients.connection import KafkaSettings
from chaosbus.commands.record import experiment_identifiers
from chaosbus.experiment.governance import Privacy
from chaosbus.experiment.loader import ExperimentInvalid, load_experiment, parse_experiment_text
from chaosbus.scenarios import load_experiment_or_scenario
from chaosbus.scenarios.starter import starter_experiment
from chaosbus.traffic.errors import RecordingInvalid
from chaosbus.traffic.file_format import RecordingReader, RecordingWriter
from chaosbus.traffic.inference import propose
from chaosbus.traffic.records import TrafficRecord
from chaosbus.traffic.workload import Workload
from chaosbus_demo.events import EVENT_ID_HEADER
from chaosbus_demo.traffic import order_events

SPEC = """\
name: small
seed: 3
duration_s: 5
rate: 40
arrivals: even
entities: {key: {sequence: "o-{n:04d}"}, key_field: order_id, open: 5}
events: {headers: {event-id: event_id}}
lifecycle:
  start: created
  states:
    created: {next: {updated: 0.7, cancelled: 0.1}}
    updated: {next: {updated: 0.5}}
    cancelled: {}
"""
NOWHERE = "127.0.0.1:9"  # discard port: nothing listens, a connection would fail


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def demo_recording(path: Path, count: int = 300) -> Path:
    """The demo's order events as Node-RED writes them (key = order id, event-id header)."""
    with RecordingWriter(path, {}) as writer:
        for i, event in enumerate(order_events(count, seed=5)):
            writer.write(
                TrafficRecord(
                    event.order_id.encode(),
                    event.to_json(),
                    ((EVENT_ID_HEADER, event.event_id.encode()),),
                    1_000 + 25 * i,
                    i % 3,
                    i // 3,
                )
            )
    return path


class TestGenerateAndFidelity:
    def test_a_generated_file_compares_equal_to_itself(self, tmp_path: Path) -> None:
        """generate writes 200 records (40/s, 5 s, even); fidelity of it against it: exit 0."""
        spec = tmp_path / "spec.yaml"
        spec.write_text(SPEC)
        out = tmp_path / "g.cbt"
        code, output = run("generate", str(spec), "--out", str(out))
        assert (code, output.strip()) == (
            0,
            f"generated 200 messages over 5 s from {spec} to {out}",
        )
        code, output = run("fidelity", str(out), str(out))
        assert code == 0
        assert "OUTSIDE" not in output

    def test_fidelity_of_one_file_prints_its_figures(self, tmp_path: Path) -> None:
        """One file: its metrics as JSON, the rate per second included."""
        code, output = run("fidelity", str(demo_recording(tmp_path / "d.cbt", 80)), "--json")
        assert code == 0
        assert '"records": 80' in output
        assert '"inter-arrival ms p50": 25' in output

    def test_a_truncated_file_is_exit_2_naming_the_byte(self, tmp_path: Path) -> None:
        """fidelity on a cut file: one line, the byte, exit 2."""
        whole = demo_recording(tmp_path / "d.cbt").read_bytes()
        cut = tmp_path / "cut.cbt"
        cut.write_bytes(whole[:-30])
        code, output = run("fidelity", str(cut))
        assert code == 2
        assert f"truncated at byte {len(whole) - 30}" in output

    def test_an_invalid_spec_is_exit_2_with_its_path(self, tmp_path: Path) -> None:
        """generate refuses a spec whose probabilities sum above 1, writing nothing."""
        spec = tmp_path / "spec.yaml"
        spec.write_text(
            SPEC.replace("{updated: 0.7, cancelled: 0.1}", "{updated: 0.7, cancelled: 0.4}")
        )
        code, output = run("generate", str(spec), "--out", str(tmp_path / "g.cbt"))
        assert code == 2
        assert "lifecycle.states.created.next: the probabilities sum to 1.1, above 1" in output
        assert not (tmp_path / "g.cbt").exists()


class TestInitFromRecording:
    def test_the_demo_traffic_proposes_the_demo_extractors(self, tmp_path: Path) -> None:
        """Event id, version and the cancel-as-delete are found as the shipped scenarios say."""
        proposal = propose(iter(_records(demo_recording(tmp_path / "d.cbt"))))
        assert proposal.extract == {
            "event_id": {"json": "$.event_id"},
            "entity": "record_key",
            "version": {"json": "$.version"},
            "delete": {"path": "$.type", "equals": "cancelled"},
        }
        assert proposal.spec["entities"]["key_field"] == "order_id"
        assert proposal.spec["events"]["headers"] == {"event-id": "event_id"}
        assert proposal.spec["lifecycle"]["start"] == "created"

    def test_init_writes_an_experiment_and_a_spec_both_valid(self, tmp_path: Path) -> None:
        """init --from-recording: experiment with the proposed extract and a generate workload."""
        path = tmp_path / "exp.yaml"
        recording = demo_recording(tmp_path / "d.cbt")
        code, output = run("init", str(path), "--from-recording", str(recording))
        assert code == 0, output
        spec = load_experiment(path)
        assert spec.workload is not None
        assert spec.workload.generate == str(tmp_path / "exp.traffic.yaml")
        assert spec.monitor.checks[0].extract.version is not None
        traffic = yaml.safe_load((tmp_path / "exp.traffic.yaml").read_text())
        assert traffic["events"]["version_field"] == "version"


class TestRefusalsBeforeConnecting:
    def test_hashing_without_a_key_writes_nothing(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """record --hash-fields with no key: exit 2 before any connection, no file."""
        monkeypatch.delenv("CHAOSBUS_HASH_KEY", raising=False)
        out = tmp_path / "r.cbt"
        code, output = run(
            "record", "--from", "orders", "--out", str(out), "--hash-fields", "key",
            "--bootstrap", NOWHERE,
        )  # fmt: skip
        assert code == 2
        assert "needs a key" in output
        assert not out.exists()

    def test_an_existing_output_is_kept(self, tmp_path: Path) -> None:
        """record onto an existing file without --force: exit 2, the file untouched."""
        out = tmp_path / "r.cbt"
        out.write_text("mine")
        code, output = run("record", "--from", "orders", "--out", str(out), "--bootstrap", NOWHERE)
        assert code == 2
        assert "exists" in output
        assert out.read_text() == "mine"

    def test_speed_and_rate_together_are_refused(self, tmp_path: Path) -> None:
        """replay --speed x2 --rate 10/s: one of them."""
        recording = str(demo_recording(tmp_path / "d.cbt", 3))
        code, output = run(
            "replay", recording, "--to", "t", "--speed", "x2", "--rate", "10/s",
            "--bootstrap", NOWHERE,
        )  # fmt: skip
        assert code == 2
        assert "--speed and --rate: give one" in output

    def test_shift_ids_without_known_ids_is_refused(self, tmp_path: Path) -> None:
        """A recording that hashed nothing needs --id-fields for --shift-ids."""
        recording = str(demo_recording(tmp_path / "d.cbt", 3))
        code, output = run("replay", recording, "--to", "t", "--shift-ids", "--bootstrap", NOWHERE)
        assert code == 2
        assert "--id-fields" in output


class TestExperimentWorkload:
    def experiment(self, workload: str) -> str:
        return starter_experiment("orders.nocode", "orders") + f"workload: {workload}\n"

    def test_a_replay_workload_validates(self) -> None:
        """workload: {replay, speed} parses, aimed at the monitor's source by default."""
        spec = parse_experiment_text(self.experiment("{replay: r.cbt, speed: 2}"))
        assert spec.workload is not None
        assert (spec.workload.replay, spec.workload.speed) == ("r.cbt", 2)
        assert spec.workload_topic == "orders.nocode"

    @pytest.mark.parametrize(
        ("workload", "problem"),
        [
            ("{replay: r.cbt, generate: s.yaml}", "give replay (a recording) or generate"),
            ("{speed: 2}", "give replay (a recording) or generate"),
            ("{replay: r.cbt, speed: 2, rate: 5}", "speed or rate, not both"),
            ("{replay: r.cbt, to: elsewhere}", "workload.to: must be the source (from) of a route"),
        ],
    )
    def test_an_invalid_workload_is_named(self, workload: str, problem: str) -> None:
        """Both sources, no source, both paces, or a topic that bypasses the interposer."""
        with pytest.raises(ExperimentInvalid) as refused:
            parse_experiment_text(self.experiment(workload))
        assert problem in str(refused.value)

    def test_a_missing_recording_is_refused_when_the_run_is_set_up(self, tmp_path: Path) -> None:
        """The run reads the workload's file before anything starts: one line naming it."""
        missing = tmp_path / "gone.cbt"
        spec = parse_experiment_text(self.experiment(f"{{replay: {missing}}}"))
        with pytest.raises(RecordingInvalid, match=r"gone\.cbt: cannot read it"):
            Workload.of(spec, KafkaSettings(NOWHERE))


def _records(path: Path) -> list[TrafficRecord]:
    with RecordingReader(path) as reader:
        return list(reader)


class TestPrivacyFromAnExperiment:
    def test_privacy_hashed_covers_the_key_and_what_the_checks_read(self) -> None:
        """duplicate-storm with privacy hashed: the key, $.event_id, and $.customer (the
        counter's entity); a clear experiment adds nothing."""
        scenario = load_experiment_or_scenario("duplicate-storm")
        hashed = scenario.model_copy(update={"privacy": Privacy(identifiers="hashed")})
        assert [str(s) for s in experiment_identifiers(hashed)] == [
            "key",
            "$.event_id",
            "$.customer",
        ]
        assert experiment_identifiers(scenario) == ()
