"""What the demo must show, and why a run did not: the naive service caught, the safe one held.

Each experiment names the anomaly it exists to provoke in the naive service; any other
anomaly it finds there too is fine (a duplicate that lands after a newer version is also a
stale overwrite). The safe service must hold every experiment.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from chaosbus.report.model import RunReport
from chaosbus.runner.facts import RunFacts
from chaosbus_demo.services import Kind

PROVOKES = {
    "duplicate-storm": "duplicate_effect",
    "out-of-order-updates": "stale_overwrite",
}


@dataclass(frozen=True)
class Verdict:
    """One service's verdict in one experiment, and the report files written for it."""

    experiment: str
    service: Kind
    report: RunReport
    files: tuple[Path, ...] = field(default=())
    facts: RunFacts | None = None  # what the run or check observed: the history keeps them


def problems(verdicts: Iterable[Verdict]) -> list[str]:
    """Why the verdicts are not what the demo should show; empty when they are."""
    found: list[str] = []
    for v in verdicts:
        label = f"{v.experiment}: ledger-{v.service} was {v.report.status}"
        why = f" ({v.report.reason})" if v.report.reason else ""
        if v.service == "safe" and v.report.status != "held":
            found.append(f"{label}, expected held{why}")
        if v.service == "naive":
            wanted = PROVOKES.get(v.experiment)
            if v.report.status != "violated":
                found.append(f"{label}, expected violated{why}")
            elif wanted and not v.report.anomalies.counts.get(wanted):
                found.append(f"{label} but without {wanted}, the anomaly it exists to show")
    return found
