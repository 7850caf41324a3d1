"""The hostile corpus: every file under tests/hostile/ is refused by `chaosbus validate`.

Each file's first line is `# expect: <the one line it must produce>`. Experiment files are
under `experiments/`, fault files (for `chaosbus proxy --fault`) under `faults/`, which
`validate --faults` reads. Every refusal is exit 2 with exactly that one problem line,
never a traceback and never exit 1 (which means "hypothesis violated").
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chaosbus.cli import app
from chaosbus.documents import DocumentError, read_yaml_file
from chaosbus.injectors.limits import MAX_FILE_BYTES
from chaosbus.scenarios import scenario_names
from tests.cli_runner import chaosbus

CORPUS = Path(__file__).parent.parent / "hostile"
PREFIX = b"# expect: "
FILES = sorted(CORPUS.glob("*/*.yaml"))


def expected_line(path: Path) -> str:
    first = path.read_bytes().split(b"\n", 1)[0]
    assert first.startswith(PREFIX), f"{path} lacks its '# expect:' line"
    return first[len(PREFIX) :].decode("utf-8")


def validate_args(path: Path) -> list[str]:
    return ["validate", str(path), *(["--faults"] if path.parent.name == "faults" else [])]


class TestCorpus:
    def test_at_least_fifty_files(self) -> None:
        """The corpus holds at least 50 hostile files, experiments and fault files both."""
        kinds = {path.parent.name for path in FILES}
        assert len(FILES) >= 50
        assert kinds == {"experiments", "faults"}

    @pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
    def test_refused_with_its_one_line(self, path: Path) -> None:
        """Exit 2, a header naming the file, then exactly the expected problem line."""
        result = CliRunner().invoke(app, validate_args(path))
        assert result.exit_code == 2, result.output
        assert isinstance(result.exception, SystemExit)
        header, *problems = result.stderr.splitlines()
        assert header.startswith(f"chaosbus: {path}: 1 problem in ")
        assert [line.strip() for line in problems] == [expected_line(path)]
        assert result.stdout == ""


class TestAsAUserRunsIt:
    @pytest.mark.parametrize(
        "name",
        ["experiments/billion-laughs", "experiments/complex-key", "faults/inf-mean-ms"],
    )
    def test_real_process_exits_2_with_the_line(self, name: str) -> None:
        """The installed command line, in its own process: exit 2, the line, no traceback."""
        path = CORPUS / f"{name}.yaml"
        outcome = chaosbus(*validate_args(path))
        assert outcome.code == 2
        assert outcome.last_error_line.strip() == expected_line(path)
        assert "Traceback" not in outcome.stderr


class TestCheapRefusal:
    def test_billion_laughs_is_refused_without_expanding(self) -> None:
        """Nine levels of nine aliases (387 million values) are refused in under 5 MB."""
        tracemalloc.start()
        try:
            with pytest.raises(DocumentError, match="expands to more than 100000 values"):
                read_yaml_file(CORPUS / "experiments" / "billion-laughs.yaml")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 5 * 1024 * 1024

    def test_a_file_over_the_size_limit_is_not_parsed(self, tmp_path: Path) -> None:
        """A file one byte over 1 MiB is refused by its size, before YAML sees it."""
        path = tmp_path / "big.yaml"
        path.write_bytes(b"#" * (MAX_FILE_BYTES + 1))
        result = CliRunner().invoke(app, ["validate", str(path)])
        assert result.exit_code == 2
        assert result.stderr.splitlines()[1].strip() == (
            "(document): larger than 1048576 bytes (limit)"
        )

    def test_a_missing_file_is_one_line(self, tmp_path: Path) -> None:
        """A path that does not exist is exit 2 and one line, for a fault file too."""
        result = CliRunner().invoke(app, ["validate", str(tmp_path / "none.yaml"), "--faults"])
        assert result.exit_code == 2
        assert result.stderr.splitlines()[1].strip() == (
            "(document): cannot read: No such file or directory"
        )


class TestStillValid:
    @pytest.mark.parametrize("name", scenario_names())
    def test_shipped_scenarios_validate(self, name: str) -> None:
        """Every shipped scenario passes the hardened spec unchanged."""
        result = CliRunner().invoke(app, ["validate", name])
        assert result.exit_code == 0, result.output

    def test_a_topic_differing_only_in_case_is_not_chaosbus_own(self, tmp_path: Path) -> None:
        """Protection is case-exact, as Kafka is: `Chaosbus.ledger` is another topic."""
        source = (CORPUS / "experiments" / "route-to-ledger.yaml").read_text()
        path = tmp_path / "case.yaml"
        path.write_text(source.replace("to: chaosbus.ledger", "to: Chaosbus.ledger"))
        result = CliRunner().invoke(app, ["validate", str(path)])
        assert result.exit_code == 0, result.output

    def test_a_valid_fault_file_validates(self, tmp_path: Path) -> None:
        """validate --faults accepts a fault file within every limit, and says so."""
        path = tmp_path / "faults.yaml"
        path.write_text(
            "seed: 1\nblast_radius: {max_faults_per_s: 50, max_copies_per_message: 3}\n"
            "faults: [{type: duplicate, probability: 0.1, copies: 3}]\n"
        )
        result = CliRunner().invoke(app, ["validate", str(path), "--faults"])
        assert (result.exit_code, result.stdout.strip()) == (
            0,
            f"{path}: valid fault file (1 faults)",
        )
