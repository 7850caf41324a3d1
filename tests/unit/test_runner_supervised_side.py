"""The supervised interposer's pure parts: the protocol both processes read, the blast
radius a restarted child gets, and how a child's end is said."""

from __future__ import annotations

from chaosbus.clients.connection import KafkaSettings
from chaosbus.control.scopes import Paused
from chaosbus.runner.interposer_protocol import Command, Launch, Pauses, Status
from chaosbus.runner.restarts import ending
from chaosbus.runner.supervised_side import SupervisedTopicSide
from chaosbus.scenarios import load_experiment_or_scenario

SPEC = load_experiment_or_scenario("duplicate-storm")  # max_faults 5000
KAFKA = KafkaSettings(
    "127.0.0.1:9092",
    security_protocol="SASL_SSL",
    sasl_mechanism="SCRAM-SHA-512",
    sasl_username="chaos",
    sasl_password="s3cret",
)


def side() -> SupervisedTopicSide:
    return SupervisedTopicSide(SPEC, kafka=KAFKA, run_id="r1", clock=lambda: 0, salt=b"\x01" * 16)


class TestProtocol:
    def test_a_launch_gives_the_child_what_the_runner_has(self) -> None:
        """The experiment, the Kafka settings (credentials too) and the salt survive the pipe."""
        launch = Launch.of(
            SPEC, KAFKA, run_id="r1", salt=b"\x01" * 16, intensity=0.5, injecting=False
        )
        again = Launch.model_validate_json(launch.line())
        assert again.experiment() == SPEC
        assert again.settings() == KAFKA
        assert again.identifier_salt() == b"\x01" * 16
        assert (again.intensity, again.injecting) == (0.5, False)

    def test_pauses_survive_the_pipe(self) -> None:
        """The scoped switches reach the child as they are, fail-closed state included."""
        paused = Paused(frozenset({"fault:retries", "route:orders"}), False, "")
        everything = Paused(everything=True, detail="Redis did not answer")
        for state in (paused, everything):
            line = Command(pauses=Pauses.of(state)).line()
            again = Command.model_validate_json(line).pauses
            assert again is not None
            assert again.paused() == state

    def test_lines_are_one_json_object_each(self) -> None:
        """A command says only what it changes; a status line ends with a newline."""
        assert Command(injecting=False).line() == b'{"injecting":false}\n'
        assert Status(started=True, held=3).line() == b'{"started":true,"held":3}\n'


class TestRestart:
    def test_a_restarted_child_cannot_widen_the_blast_radius(self) -> None:
        """After a child that injected 1200 faults died, the next may inject 3800 more."""
        supervised = side()
        assert supervised._spec_now() is SPEC  # the first child: the experiment as it is
        supervised._before.append(Status(counts={"pass": 400, "duplicate": 1200}))
        assert supervised._spec_now().blast_radius.max_faults == 3_800
        assert supervised.fault_counts() == {"pass": 400, "duplicate": 1200}

    def test_counts_add_up_over_the_children(self) -> None:
        """Counts, refusals and suppressions are the sum of every child's last word."""
        supervised = side()
        supervised._before.append(Status(counts={"pass": 5}, refused=1, suppressed={"x": 2}))
        supervised._status = Status(counts={"pass": 7, "drop": 1}, refused=2, held=4)
        assert supervised.fault_counts() == {"pass": 12, "drop": 1}
        assert (supervised.refused(), supervised.suppressed_counts()) == (3, {"x": 2})
        assert supervised.held == 4  # only the running child holds anything

    def test_an_end_is_said_by_its_signal_or_code(self) -> None:
        """A negative return code is the signal that ended the child."""
        assert ending(-9) == "was killed by SIGKILL"
        assert ending(1) == "exited with code 1"
