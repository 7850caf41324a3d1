"""What the program's commands take in: labels (flags and CHAOSBUS_LABELS), the history's
location (CHAOSBUS_HISTORY, CHAOSBUS_HOME), topics renamed for a rerun, a suite's members by
tier, and the flags refused before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from chaosbus.cli import app
from chaosbus.errors import InvalidInput
from chaosbus.experiment import parse_experiment_text
from chaosbus.history.connect import open_history
from chaosbus.history.location import Location, parse_location
from chaosbus.history.rerun import parse_renames, renamed_text
from chaosbus.settings import resolve_history, resolve_labels
from chaosbus.suite import SuiteResult, discover
from tests.unit.history_support import EXPERIMENT, experiment_text, stored


class TestLabels:
    def test_flags_win_over_the_variable_name_by_name(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """CHAOSBUS_LABELS gives service and version; --label version overrides one."""
        monkeypatch.setenv("CHAOSBUS_LABELS", "service=orders-api, version=1.4.1")
        assert resolve_labels(["version=1.4.2", "team=payments"]) == {
            "service": "orders-api", "version": "1.4.2", "team": "payments"
        }  # fmt: skip

    @pytest.mark.parametrize(
        ("text", "problem"),
        [
            ("service", "expected NAME=VALUE"),
            ("1x=a", "a name is a letter"),
            ("service=", "a value is 1 to 200 printable characters"),
            ("service=a\x00b", "a value is 1 to 200 printable characters"),
        ],
    )
    def test_a_bad_label_is_one_line(self, text: str, problem: str) -> None:
        """Each refusal names the label and what is wrong."""
        with pytest.raises(InvalidInput, match=problem) as raised:
            resolve_labels([text])
        assert repr(text) in str(raised.value)


class TestLocation:
    def test_the_default_is_a_file_under_chaosbus_home(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        """No flag, no variable: CHAOSBUS_HOME/history.sqlite; --no-history: none."""
        monkeypatch.delenv("CHAOSBUS_HISTORY", raising=False)
        monkeypatch.setenv("CHAOSBUS_HOME", str(tmp_path))
        assert resolve_history() == Location("sqlite", str(tmp_path / "history.sqlite"))
        assert resolve_history("x.sqlite", off=True) is None

    def test_the_variable_and_the_flag(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """CHAOSBUS_HISTORY names PostgreSQL; a flag wins; the password is masked when said."""
        monkeypatch.setenv("CHAOSBUS_HISTORY", "postgresql://chaos:s3cret@db:5432/history")
        found = resolve_history()
        assert found is not None
        assert found.kind == "postgresql"
        assert found.describe() == "postgresql://chaos:***@db:5432/history"
        assert resolve_history("sqlite:///tmp/h.sqlite") == Location("sqlite", "/tmp/h.sqlite")

    def test_another_scheme_is_refused(self) -> None:
        """A history is a file or PostgreSQL: another scheme is one line."""
        with pytest.raises(InvalidInput, match="not mysql://"):
            parse_location("mysql://db/x")


class TestRerunText:
    def test_without_renames_the_text_is_exact(self) -> None:
        """The stored text comes back byte for byte: the same sha256, the same seed."""
        text = experiment_text()
        assert renamed_text(text, {}, origin="t") is text

    def test_renamed_topics_keep_the_decision_key(self) -> None:
        """Every value equal to the old name becomes the new one; the route is pinned to its
        original source, so the same offsets get the same decisions."""
        text = renamed_text(experiment_text(), parse_renames(["orders=ci.orders",
                            "orders.out=ci.orders.out"]), origin="t")  # fmt: skip
        spec = parse_experiment_text(text)
        route = spec.routes[0]
        assert (route.source, route.destination, route.id) == ("ci.orders", "ci.orders.out",
                                                               "orders")  # fmt: skip
        assert spec.monitor.source_topic == "ci.orders"
        assert spec.seed == EXPERIMENT["seed"]

    def test_a_topic_the_experiment_does_not_name_is_refused(self) -> None:
        """A rename of a topic the experiment never names, or without `=`: one line."""
        with pytest.raises(InvalidInput, match="--topic nowhere=…: the experiment paid-once"):
            renamed_text(experiment_text(), {"nowhere": "x"}, origin="t")
        with pytest.raises(InvalidInput, match="expected OLD=NEW"):
            parse_renames(["orders"])


class TestSuiteMembers:
    def write(self, folder: Path, name: str, **changes: object) -> None:
        doc = {**yaml.safe_load(experiment_text()), "name": name, **changes}
        (folder / f"{name}.yaml").write_text(yaml.safe_dump(doc))

    def test_a_directory_by_tier_sorted_and_generator_specs_left_out(self, tmp_path: Path) -> None:
        """smoke: the two smoke files, by name; no tier is standard; *.traffic.yaml skipped."""
        self.write(tmp_path, "b-smoke", tier="smoke")
        self.write(tmp_path, "a-smoke", tier="smoke")
        doc = yaml.safe_load(experiment_text())
        doc.pop("tier")
        (tmp_path / "plain.yml").write_text(yaml.safe_dump({**doc, "name": "plain"}))
        (tmp_path / "orders.traffic.yaml").write_text("name: not an experiment\n")
        assert [m.spec.name for m in discover(str(tmp_path), "smoke")] == ["a-smoke", "b-smoke"]
        assert [m.spec.name for m in discover(str(tmp_path), "standard")] == ["plain"]
        assert len(discover(str(tmp_path), None)) == 3

    def test_the_library_has_each_tier(self) -> None:
        """The shipped scenarios declare tiers: smoke finds the quick core ones."""
        assert [m.spec.name for m in discover("library", "smoke")] == [
            "duplicate-storm", "lost-events", "out-of-order-updates"
        ]  # fmt: skip
        assert discover("library", "deep")

    def test_nothing_to_run_or_a_broken_file_refuses_the_suite(self, tmp_path: Path) -> None:
        """No deep experiment: one line; a broken file: its problems, before anything runs."""
        self.write(tmp_path, "only", tier="smoke")
        with pytest.raises(InvalidInput, match="no experiment of tier deep to run"):
            discover(str(tmp_path), "deep")
        (tmp_path / "broken.yaml").write_text("name: broken\nseed: x\n")
        with pytest.raises(InvalidInput, match=r"broken\.yaml"):
            discover(str(tmp_path), "smoke")

    def test_a_smoke_tier_that_takes_too_long_is_refused(self) -> None:
        """A tier is a promise: smoke runs at most 120 s."""
        with pytest.raises(InvalidInput, match="tier: smoke runs at most 120 s"):
            parse_experiment_text(experiment_text(schedule={"inject_s": 200}))

    @pytest.mark.parametrize(
        ("codes", "worst"),
        [((0, 1, 4), 4), ((0, 5, 1), 1), ((0, 5), 5), ((2, 3, 1), 3), ((0, 0), 0)],
    )
    def test_the_worst_run_gives_the_exit_code(self, codes: tuple[int, ...], worst: int) -> None:
        """aborted, error, inconclusive, violated (conclude's order), regression, held."""
        from chaosbus.history.program import Concluded

        run = stored("r1").report
        result = SuiteResult("s", done=[(None, Concluded(run, c, True)) for c in codes])  # type: ignore[misc]
        assert result.exit_code == worst


class TestRefusedBeforeRunning:
    def test_an_unknown_baseline_refuses_the_run(self, tmp_path: Path) -> None:
        """`run --baseline ID` of an id not in the history: one line, exit 2, nothing run
        (no broker is there to reach)."""
        history = tmp_path / "h.sqlite"
        with open_history(Location("sqlite", str(history))):
            pass
        spec = tmp_path / "e.yaml"
        spec.write_text(experiment_text())
        result = CliRunner().invoke(
            app,
            ["run", str(spec), "--history", str(history), "--baseline", "nope",
             "--bootstrap", "127.0.0.1:9", "--redis", "redis://127.0.0.1:9/0"],
        )  # fmt: skip
        assert result.exit_code == 2
        assert result.stderr == f"chaosbus: no run 'nope' in the history {history}\n"

    def test_a_baseline_of_another_experiment_refuses_the_run(self, tmp_path: Path) -> None:
        """The id is a run of another experiment: one line, exit 2."""
        history = tmp_path / "h.sqlite"
        with open_history(Location("sqlite", str(history))) as store:
            store.append(stored("other"))
        spec = tmp_path / "e.yaml"
        spec.write_text(experiment_text(name="lost-orders"))
        result = CliRunner().invoke(
            app, ["run", str(spec), "--history", str(history), "--baseline", "other"]
        )
        assert result.exit_code == 2
        assert "baseline other is a run of 'paid-once', not of 'lost-orders'" in result.stderr

    def test_fail_on_regression_needs_a_baseline(self, tmp_path: Path) -> None:
        """A gate with nothing to compare against is refused, exit 2."""
        result = CliRunner().invoke(app, ["run", "duplicate-storm", "--fail-on-regression"])
        assert result.exit_code == 2
        assert (
            result.stderr
            == "chaosbus: --fail-on-regression needs --baseline (last, best or a run id)\n"
        )

    def test_rerun_of_an_unknown_id(self, tmp_path: Path) -> None:
        """`rerun` of an id the history does not have: one line, exit 2."""
        result = CliRunner().invoke(app, ["rerun", "nope", "--history", str(tmp_path / "h.db")])
        assert result.exit_code == 2
        assert result.stderr.startswith("chaosbus: no run 'nope' in the history")
