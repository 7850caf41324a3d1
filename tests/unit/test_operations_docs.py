"""The dashboard and its documentation say the same thing: every panel's query is in
docs/operations.md, and every metric a query reads is one the table there describes."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = json.loads((ROOT / "docs" / "grafana-dashboard.json").read_text())
DOC = (ROOT / "docs" / "operations.md").read_text()


def queries() -> list[str]:
    return [target["expr"] for panel in DASHBOARD["panels"] for target in panel["targets"]]


class TestDashboardDocumented:
    def test_every_query_is_written_in_the_doc(self) -> None:
        """Each panel's Prometheus query appears, as it is, in docs/operations.md."""
        missing = [expr for expr in queries() if f"`{expr}`" not in DOC]
        assert missing == []
        assert len(queries()) >= 20

    def test_every_metric_queried_is_described(self) -> None:
        """A metric a panel reads (bucket series by their histogram) has a row in the table."""
        described = set(re.findall(r"^\| `(chaosbus_[a-z_]+)` \|", DOC, flags=re.MULTILINE))
        read = set()
        for expr in queries():
            labels = set(re.findall(r"(chaosbus_[a-z_]+)\s*(?:=~|!=|=)", expr))
            for grouped in re.findall(r"by \(([^)]*)\)", expr):
                labels.update(name.strip() for name in grouped.split(","))
            names = set(re.findall(r"\bchaosbus_[a-z_]+", expr)) - labels
            read.update(re.sub(r"_bucket$", "", name) for name in names)
        assert read - described == set()
        assert {"chaosbus_decisions_total", "chaosbus_run_guardrail_bound"} <= read

    def test_the_expected_versus_actual_panel_comes_first(self) -> None:
        """The first panel puts faults injected beside anomalies."""
        first = DASHBOARD["panels"][0]["targets"]
        assert "chaosbus_decisions_total" in first[0]["expr"]
        assert "chaosbus_run_anomalies" in first[1]["expr"]
