"""`run --traffic CMD`: a real shell command, its output kept, how it ended said."""

from __future__ import annotations

from pathlib import Path

from chaosbus.runner.traffic_command import TrafficCommand


class TestTrafficCommand:
    async def test_output_and_exit_code_are_kept(self, tmp_path: Path) -> None:
        """stdout and stderr go to the output file; a non-zero exit is a failure, said in
        one line naming the command, the code and the file."""
        output = tmp_path / "run.traffic.log"
        command = 'echo "sent $CHAOSBUS_RUN_ID"; echo oops >&2; exit 3'
        traffic = TrafficCommand(command, output, env={"CHAOSBUS_RUN_ID": "r1"})
        await traffic.start(2.5)
        await traffic.wait()
        await traffic.stop()
        result = traffic.result()
        assert result is not None
        assert (result.exit_code, result.stopped, result.failed) == (3, False, True)
        assert result.started_s == 2.5
        assert output.read_text(encoding="utf-8") == "sent r1\noops\n"
        assert result.describe() == f"traffic command `{command}` exited 3 (output: {output})"

    async def test_a_command_still_running_is_stopped_not_failed(self, tmp_path: Path) -> None:
        """Still running when the run winds down: SIGTERM to its group, `stopped`, and not
        a failure."""
        output = tmp_path / "t.log"
        traffic = TrafficCommand("sleep 30", output, env={}, grace_s=5)
        await traffic.start(0.0)
        await traffic.stop()
        result = traffic.result()
        assert result is not None
        assert (result.stopped, result.failed) == (True, False)
        assert result.exit_code == -15  # SIGTERM
        assert result.describe() == (
            f"traffic command `sleep 30` was still running at the end and was stopped "
            f"(output: {output})"
        )

    async def test_a_command_that_cannot_start_is_a_failure(self, tmp_path: Path) -> None:
        """An output file that cannot be written (its folder is a file): reported as a
        failure with the reason, never raised into the run."""
        blocker = tmp_path / "file"
        blocker.write_text("", encoding="utf-8")
        traffic = TrafficCommand("true", blocker / "t.log", env={})
        await traffic.start(1.0)
        await traffic.stop()
        result = traffic.result()
        assert result is not None
        assert (result.exit_code, result.failed) == (None, True)
        assert result.describe().startswith("traffic command `true` could not start: ")

    async def test_never_started_is_no_result(self, tmp_path: Path) -> None:
        """A run that stopped before injection never started it: nothing to report."""
        traffic = TrafficCommand("true", tmp_path / "t.log", env={})
        await traffic.stop()
        assert traffic.result() is None
