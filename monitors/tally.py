"""Turns per-unit findings into the report's counts, examples, staleness and coverage."""

from __future__ import annotations

from monitors.anomalies import (
    COUNT_NAMES,
    DROPPED_EXPECTED,
    DROPPED_RECONCILED,
    UNRECOVERED,
    Evidence,
    Finding,
)
from monitors.report import Anomalies, AnomalyExample, Staleness


class Tally:
    """Accumulates findings; examples are the first `max_examples` per name, in feed order."""

    def __init__(self, max_examples: int) -> None:
        self.max_examples = max_examples
        self.counts = dict.fromkeys(COUNT_NAMES, 0)
        self.examples: dict[str, list[AnomalyExample]] = {}
        self.judged = self.pending = self.unobserved = 0
        self._behind_total = 0
        self._behind_units = 0
        self._behind_max: int | None = None

    def add(self, finding: Finding) -> None:
        if finding.status == "pending":
            self.pending += 1
            return
        if finding.status == "unobserved":
            self.unobserved += 1
            return
        self.judged += 1
        self.counts[DROPPED_EXPECTED] += finding.dropped_expected
        self.counts[DROPPED_RECONCILED] += finding.dropped_reconciled
        if finding.evidence is not None:
            self._count(finding.evidence.kind, finding.unit, finding.evidence)
            if finding.unrecovered:
                self._count(UNRECOVERED, finding.unit, finding.evidence)
        if finding.staleness is not None:
            self._behind_units += 1
            self._behind_total += finding.staleness
            self._behind_max = max(self._behind_max or 0, finding.staleness)

    def _count(self, name: str, unit: str, evidence: Evidence) -> None:
        self.counts[name] += 1
        kept = self.examples.setdefault(name, [])
        if len(kept) < self.max_examples:
            kept.append(
                AnomalyExample(
                    unit=unit,
                    event_ids=evidence.event_ids,
                    expected=evidence.expected,
                    observed=evidence.observed,
                    detail=evidence.detail,
                )
            )

    def anomalies(self) -> Anomalies:
        return Anomalies(
            counts=dict(self.counts), examples={k: tuple(v) for k, v in self.examples.items()}
        )

    def staleness(self) -> Staleness:
        if not self._behind_units:
            return Staleness()
        return Staleness(
            max_versions_behind=self._behind_max,
            mean_versions_behind=self._behind_total / self._behind_units,
        )
