"""`chaosbus validate` and `run` on malformed files: exit 2, the path in the message."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from chaosbus.cli import app

BROKEN = """\
name: broken
hypothesis: Orders are applied once.
routes: [{from: orders.nocode, to: orders}]
seed: 1
schedule: {inject_s: 3}
faults:
  - {type: duplicate, probability: 0.5}
  - {type: delay, probability: 0.5, distribution: {kind: uniform, min_ms: 10, max_ms: 1}}
monitor:
  source_topic: orders.nocode
  checks: [{name: s, model: entity, probe: {key: "order:{entity}"}}]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "exp.yaml"
    path.write_text(text)
    return path


class TestMalformed:
    def test_validate_exits_2_naming_the_path(self, tmp_path: Path) -> None:
        """validate prints the file and one line per problem, and exits 2."""
        result = CliRunner().invoke(app, ["validate", str(write(tmp_path, BROKEN))])
        assert result.exit_code == 2
        assert "faults[1].distribution.max_ms: must be ≥ min_ms (10)" in result.output
        assert str(tmp_path / "exp.yaml") in result.output

    def test_run_exits_2_before_connecting(self, tmp_path: Path) -> None:
        """run refuses a malformed file before it touches the (unreachable) broker."""
        path = write(tmp_path, BROKEN)
        result = CliRunner().invoke(
            app, ["run", str(path), "--bootstrap", "127.0.0.1:1", "--redis", "redis://127.0.0.1:1"]
        )
        assert result.exit_code == 2
        assert "faults[1].distribution.max_ms" in result.output

    def test_valid_file(self, tmp_path: Path) -> None:
        """A valid file is reported valid with exit 0."""
        fixed = BROKEN.replace("max_ms: 1}", "max_ms: 100}")
        result = CliRunner().invoke(app, ["validate", str(write(tmp_path, fixed))])
        assert result.exit_code == 0, result.output
        assert "valid experiment 'broken'" in result.output

    def test_unreachable_redis_is_invalid_input(self, tmp_path: Path) -> None:
        """A control plane that does not answer: exit 2, one line."""
        fixed = BROKEN.replace("max_ms: 1}", "max_ms: 100}")
        result = CliRunner().invoke(
            app,
            ["run", str(write(tmp_path, fixed)), "--redis", "redis://127.0.0.1:1/0"],
        )
        assert result.exit_code == 2
        assert "does not answer" in result.output
