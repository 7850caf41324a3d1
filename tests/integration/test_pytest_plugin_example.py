"""The documented pytest example (docs/examples/test_ledger_under_chaos.py) run as a team
would run it, in a pytest session of its own (pytester) against the real stack: the safe
ledger holds, the naive one fails with duplicate_effect, an example and its cause."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import StackAddresses

pytestmark = pytest.mark.integration
pytest_plugins = ["pytester"]

EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "test_ledger_under_chaos.py"


def test_the_documented_example_passes_safe_and_fails_naive_with_causes(
    pytester: pytest.Pytester, local_stack: StackAddresses, monkeypatch: pytest.MonkeyPatch
) -> None:
    """1 passed (ledger-safe), 1 failed (ledger-naive) whose message names the anomaly,
    a customer with expected and observed totals, and the fault that caused it."""
    monkeypatch.setenv("CHAOSBUS_BOOTSTRAP", local_stack.bootstrap)
    monkeypatch.setenv("CHAOSBUS_REDIS", local_stack.redis_url)
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_ledger_under_chaos=EXAMPLE.read_text())
    ran = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=240)
    ran.assert_outcomes(passed=1, failed=1)
    for line in (  # each searched from the start: the examples come in anomaly order
        "*AssertionError: duplicate-storm: VIOLATED (exit 1): the hypothesis was violated",
        "*anomalies: *duplicate_effect *",
        "*duplicate_effect: unit c-* expected *, observed *",
        "*cause: *by fault `retries`*",
    ):
        ran.stdout.fnmatch_lines([line])
