"""Blast-radius rate limits in a full run on the real broker: the ledger and the report agree."""

from __future__ import annotations

import pytest

from chaosbus.clients.connection import KafkaSettings
from chaosbus.runner.check_window import check_window
from tests.integration.runner_support import make_stage, run_against

pytestmark = pytest.mark.integration

RATE = 2.0


class TestMaxFaultsPerSecond:
    async def test_capped_faults_are_passes_counted_in_report_and_ledger(
        self, bootstrap: str, redis_url: str, topic_name: str
    ) -> None:
        """At most 2 faults/s are injected; each refused one is a ledger pass the report counts."""
        stage = await make_stage(bootstrap, redis_url, topic_name)
        spec = stage.spec(
            "duplicate-storm",
            schedule={"warmup_s": 0, "inject_s": 4, "recover_s": 2},
            blast_radius={"max_faults_per_s": RATE, "max_copies_per_message": 2},
            faults=[{"name": "retries", "type": "duplicate", "probability": 1.0, "copies": 2}],
        )
        report = await run_against(stage, "safe", spec)
        suppressed = report.faults_suppressed["max_faults_per_s"]
        assert suppressed > 0
        assert report.faults_suppressed["max_copies_per_message"] == 0
        # The bucket's invariant over the run's logical time: one second's worth, then RATE/s.
        assert report.faults["duplicate"] <= max(RATE, 1) + RATE * report.duration_s
        # `chaosbus check` counts the same passes from the ledger's `reason`.
        from_ledger = await check_window(
            spec,
            kafka=KafkaSettings(bootstrap),
            redis_url=redis_url,
            run_id=report.run_id,
            key_prefix=stage.prefix,
        )
        assert from_ledger.faults_suppressed["max_faults_per_s"] == suppressed
        assert from_ledger.faults["duplicate"] == report.faults["duplicate"]
