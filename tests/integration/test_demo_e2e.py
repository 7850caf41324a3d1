"""`chaosbus demo` end to end: real Node-RED, both services, both experiments, the verdicts.

It runs on the session's stack (the `bootstrap`/`redis_url` fixtures), so no second Kafka
starts; Node-RED is installed by `chaosbus_demo.nodered` (cached under CHAOSBUS_CACHE), and
the test skips only when npm is absent. The schedule is shortened to keep it near half a
minute; the faults at 40 events/s still number in the dozens per experiment.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest

from chaosbus.history.connect import open_history
from chaosbus.history.location import Location
from chaosbus.history.program import Program
from chaosbus.history.store import Query
from chaosbus_demo.command import remember
from chaosbus_demo.run import DemoOptions, run_demo

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("npm") is None, reason="npm is needed to install Node-RED"),
]

SHORT = {"warmup_s": 2, "inject_s": 6, "recover_s": 3}


def processes_mentioning(text: str) -> list[str]:
    """Command lines of live processes that contain `text` (Linux /proc)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            line = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # the process ended while we looked
        if text in line:
            found.append(line)
    return found


async def test_naive_is_caught_and_safe_holds(
    bootstrap: str, redis_url: str, tmp_path: Path
) -> None:
    """Naive violated with duplicate_effect and stale_overwrite, safe held; reports written;
    each verdict recorded in the history."""
    out = tmp_path / "demo-out"
    result = await run_demo(
        DemoOptions(
            bootstrap=bootstrap,
            redis_url=redis_url,
            out=out,
            schedule=SHORT,
            settle_ms=1_500,
            control_namespace=f"chaosbus-test-{uuid.uuid4().hex[:8]}",
        )
    )
    verdicts = {(v.experiment, v.service): v.report for v in result.verdicts}
    assert set(verdicts) == {
        (experiment, service)
        for experiment in ("duplicate-storm", "out-of-order-updates")
        for service in ("naive", "safe")
    }
    storm, reorder = verdicts["duplicate-storm", "naive"], verdicts["out-of-order-updates", "naive"]
    assert storm.status == "violated"
    assert storm.anomalies.counts["duplicate_effect"] > 0
    assert storm.anomalies.examples["duplicate_effect"]
    assert reorder.status == "violated"
    assert reorder.anomalies.counts["stale_overwrite"] > 0
    for experiment in ("duplicate-storm", "out-of-order-updates"):
        safe = verdicts[experiment, "safe"]
        assert safe.status == "held", safe.reason
        assert all(check.coverage.judged > 0 for check in safe.checks.values())
    assert (result.problems, result.exit_code) == ((), 0)
    assert result.traffic is not None
    assert result.traffic.sent > 0
    assert result.traffic.failed == 0

    written = sorted(path.name for path in out.iterdir())
    assert written == sorted(
        f"{experiment}-{service}.{suffix}"
        for experiment in ("duplicate-storm", "out-of-order-updates")
        for service in ("naive", "safe")
        for suffix in ("json", "md", "html")
    )
    assert all(path.stat().st_size > 0 for path in out.iterdir())
    # Everything the demo started is stopped: no Node-RED of this run is left.
    assert processes_mentioning(f"chaosbus-demo-{result.run_id}") == []

    # Each verdict is remembered: the naive service's run under its run id, the safe
    # service's check under an id of its own, labelled by service, with the run's facts.
    history = Location("sqlite", str(tmp_path / "history.sqlite"))
    said: list[str] = []
    remember(Program(history=history, origin="demo"), result, said.append)
    with open_history(history) as store:
        kept = {(s.experiment, s.labels["service"]): s for s in store.summaries(Query(limit=10))}
        naive_run = store.get(storm.run_id)
    assert set(kept) == {
        (experiment, f"ledger-{service}")
        for experiment in ("duplicate-storm", "out-of-order-updates")
        for service in ("naive", "safe")
    }
    assert kept["duplicate-storm", "ledger-naive"].id == storm.run_id
    assert kept["duplicate-storm", "ledger-safe"].run_id == storm.run_id
    assert kept["duplicate-storm", "ledger-safe"].id != storm.run_id
    assert kept["duplicate-storm", "ledger-naive"].status == "violated"
    assert naive_run.facts.live
    assert naive_run.report == storm
    assert naive_run.experiment_text == result.texts["duplicate-storm"]
