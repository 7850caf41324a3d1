"""One recorded run judged by `run` and by `check`: one verdict, with causes from the ledger."""

from __future__ import annotations

from pathlib import Path

import pytest

from chaosbus.clients.connection import KafkaSettings
from chaosbus.report import write_report
from chaosbus.runner.check_window import check_window
from chaosbus.runner.verdict import conclude_report
from tests.integration.runner_support import ledger_of, make_stage, run_against
from tests.integration.test_runner_verdicts import shuffled_by_count

pytestmark = pytest.mark.integration


class TestOneConclusion:
    async def test_run_and_check_agree_and_examples_name_their_fault(
        self, bootstrap: str, redis_url: str, topic_name: str, tmp_path: Path
    ) -> None:
        """A bound that tolerates the naive service's anomalies holds for run and for check
        alike (check used to say violated on any anomaly), and every stale example is traced
        to the reorder fault's ledger decisions."""
        stage = await make_stage(bootstrap, redis_url, topic_name)
        spec = shuffled_by_count(stage).model_copy(
            update={
                "steady_state": (
                    shuffled_by_count(stage).steady_state[0].model_copy(update={"max": 10_000}),
                )
            }
        )
        report = await run_against(stage, "naive", spec)
        write_report(report, tmp_path / "report.json")
        again = await check_window(
            spec,
            kafka=KafkaSettings(bootstrap),
            redis_url=redis_url,
            run_id=report.run_id,
            key_prefix=stage.prefix,
        )
        write_report(again, tmp_path / "check.json")
        assert (report.status, report.exit_code) == ("held", 0), report.reason
        assert (again.status, again.exit_code) == (report.status, report.exit_code)
        assert conclude_report(report).status == conclude_report(again).status == "held"
        # The run also saw transient states while polling; check reads the final state once,
        # so the units still wrong at the end are what both must count alike.
        assert again.anomalies.counts["unrecovered"] == report.anomalies.counts["unrecovered"]

        ledger = {
            (r.topic, r.partition, r.offset): r for r in await ledger_of(stage, report.run_id)
        }
        examples = report.anomalies.examples["stale_overwrite"]
        assert len(examples) == min(
            spec.monitor.max_examples, report.anomalies.counts["stale_overwrite"]
        )
        for example in examples:
            cause = example.cause
            assert cause is not None
            assert cause.faulted is True
            assert "by fault `shuffle-all` (reorder)" in cause.mechanism
            for decision in cause.decisions:
                topic, partition, offset = decision.source.rsplit(":", 2)
                record = ledger[(topic, int(partition), int(offset))]
                assert (decision.fault, decision.fault_name) == (record.fault, record.fault_name)
                assert decision.actual_delay_ms is not None
        print(examples[0].detail, "->", examples[0].cause.mechanism if examples[0].cause else "")
