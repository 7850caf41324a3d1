"""The pytest plugin (entry point `pytest11`), tested with pytester: off unless used (no
import cost, nothing autouse), the `chaosbus` fixture reads experiments from a name, a file
or a dict, and its assertion shows the anomalies with their examples and causes."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points

import pytest

from chaosbus.pytest_plugin import failure_message
from tests.unit.history_support import stored

pytest_plugins = ["pytester"]


def test_the_entry_point_names_the_plugin() -> None:
    """pytest finds it through the `pytest11` entry point group."""
    found = {e.name: e.value for e in entry_points(group="pytest11")}
    assert found["chaosbus"] == "chaosbus.pytest_plugin"


def test_importing_the_plugin_imports_no_chaosbus_machinery() -> None:
    """In a fresh interpreter: the plugin loads only `chaosbus` (a docstring and a version)
    and itself: no runner, no Kafka client, no history."""
    code = (
        "import sys, chaosbus.pytest_plugin\n"
        "print(sorted(m for m in sys.modules if m.startswith(('chaosbus', 'aiokafka', 'redis'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "['chaosbus', 'chaosbus.pytest_plugin']"


def test_off_unless_used(pytester: pytest.Pytester) -> None:
    """In a session of its own: a test that does not ask for the fixture gets none and loads
    nothing of chaosbus; `--fixtures` lists `chaosbus` with its help."""
    pytester.makepyfile(
        """
        import sys

        def test_plain(request):
            assert not [name for name in request.fixturenames if "chaosbus" in name]
            assert not [m for m in sys.modules if m.startswith("chaosbus.runner")]
        """
    )
    ran = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    ran.assert_outcomes(passed=1)
    listed = pytester.runpytest_subprocess("--fixtures")
    listed.stdout.fnmatch_lines(["chaosbus*", "*Run a chaosbus experiment from this test*"])


def test_the_fixture_reads_experiments_and_fails_with_causes(pytester: pytest.Pytester) -> None:
    """A dict and a shipped name become specs with overrides; `assert_held` fails a violated
    report with the anomaly, the example and its cause (pytest shows them)."""
    report = stored("r9", anomalies={"duplicate_effect": 3}).report
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(
        f"""
        from chaosbus.report.model import RunReport

        REPORT = RunReport.model_validate_json({report.model_dump_json()!r})

        def test_specs(chaosbus):
            spec = chaosbus.experiment("duplicate-storm", source="a.src", destination="a.dst")
            assert (spec.routes[0].source, spec.routes[0].destination) == ("a.src", "a.dst")
            doc = spec.model_dump(mode="json", by_alias=True, exclude_none=True)
            assert chaosbus.experiment(doc).name == "duplicate-storm"

        def test_violated(chaosbus):
            chaosbus.assert_held(REPORT)
        """
    )
    ran = pytester.runpytest()
    ran.assert_outcomes(passed=1, failed=1)
    ran.stdout.fnmatch_lines(
        [
            "*AssertionError: paid-once: VIOLATED (exit 1): the hypothesis was violated",
            "*why: anomalies.total = 3 (expected ≤ 0)*",
            "*anomalies: duplicate_effect 3",
            "*duplicate_effect: unit c-01 (events e1): expected 100, observed 200*",
            "*cause: e1 delivered twice by fault `dup`",
        ]
    )


def test_the_message_of_a_held_report_is_never_needed() -> None:
    """`assert_held` passes a held report (no message built)."""
    from chaosbus.pytest_plugin import Chaosbus

    Chaosbus.assert_held(stored("ok").report)
    assert failure_message(stored("ok").report).startswith("paid-once: HELD (exit 0)")
