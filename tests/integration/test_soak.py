"""A short soak of the real proxy process: what each delivery mode promises across SIGKILLs."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.soak import Mode, Soak, SoakOptions

pytestmark = pytest.mark.integration

# Two kills at a low rate keep a mode near a minute on a shared machine; the broker is the
# session's, so it is not restarted here (bench/soak.py does that on its own stack).
SHORT = SoakOptions(kills=2, broker_restarts=0, rate=500, seconds=10.0, seed=3)


class TestSoak:
    @pytest.mark.parametrize("mode", ["at-least-once", "exactly-once"])
    async def test_two_kills_lose_nothing(self, bootstrap: str, mode: Mode, tmp_path: Path) -> None:
        """0 lost; exactly-once 0 duplicates; at-least-once duplicates only past a last commit,
        each one counted by the ledger's re-deliveries or as a copy no ledger record names."""
        result = await Soak(None, bootstrap, mode, SHORT, tmp_path).run()
        assert result.kills == 2
        assert result.produced > 0
        assert result.lost == 0
        assert result.outside_windows == 0
        assert result.duplicates == result.redelivered + result.unledgered
        if mode == "exactly-once":
            assert (result.duplicates, result.redelivered, result.unledgered) == (0, 0, 0)
