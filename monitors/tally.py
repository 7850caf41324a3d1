"""Turns per-unit findings into the report's counts, examples, staleness and coverage.

A finding can be taken back (`remove`), so the live checker updates its tally by the
units it re-judged instead of recounting every unit at each snapshot.
"""

from __future__ import annotations

from collections.abc import Mapping

from chaosbus.monitors.anomalies import (
    CORRUPTED_EXPECTED,
    CORRUPTED_RECONCILED,
    COUNT_NAMES,
    DROPPED_EXPECTED,
    DROPPED_RECONCILED,
    UNRECOVERED,
    Finding,
)
from chaosbus.monitors.report import Anomalies, AnomalyExample, Cause, Staleness


class Tally:
    """Accumulates findings; examples are the first `max_examples` bad units per name."""

    def __init__(self, max_examples: int) -> None:
        self.max_examples = max_examples
        self.counts = dict.fromkeys(COUNT_NAMES, 0)
        self.judged = self.pending = self.unobserved = 0
        self.judged_events = 0  # distinct events of the judged units
        self.pending_events = 0  # distinct events of the units still settling
        self._bad: dict[str, Finding] = {}  # units with evidence, in the order they turned bad
        self._behind_total = 0
        self._behind_units = 0
        self._behind: dict[str, int] = {}  # units behind by one version or more

    def add(self, finding: Finding, events: int = 0) -> None:
        """Count a unit's finding; `events` is how many distinct events the unit has."""
        self._apply(finding, +1, events)

    def remove(self, finding: Finding, events: int = 0) -> None:
        """Take back a finding added earlier (its unit is being judged again)."""
        self._apply(finding, -1, events)

    def _apply(self, finding: Finding, sign: int, events: int) -> None:
        if finding.status == "pending":
            self.pending += sign
            self.pending_events += sign * events
            return
        if finding.status == "unobserved":
            self.unobserved += sign
            return
        self.judged += sign
        self.judged_events += sign * events
        self.counts[DROPPED_EXPECTED] += sign * finding.dropped_expected
        self.counts[DROPPED_RECONCILED] += sign * finding.dropped_reconciled
        self.counts[CORRUPTED_EXPECTED] += sign * finding.corrupted_expected
        self.counts[CORRUPTED_RECONCILED] += sign * finding.corrupted_reconciled
        if finding.evidence is not None:
            self.counts[finding.evidence.kind] += sign
            self.counts[UNRECOVERED] += sign * finding.unrecovered
            if sign > 0:
                self._bad[finding.unit] = finding
            else:
                self._bad.pop(finding.unit, None)
        if finding.staleness is not None:
            self._behind_units += sign
            self._behind_total += sign * finding.staleness
            if finding.staleness and sign > 0:
                self._behind[finding.unit] = finding.staleness
            elif finding.staleness:
                self._behind.pop(finding.unit, None)

    def example_findings(self) -> list[Finding]:
        """The findings `anomalies()` shows as examples (the first few per name)."""
        kept: dict[str, int] = {}
        shown: list[Finding] = []
        for finding in self._bad.values():
            evidence = finding.evidence
            assert evidence is not None
            names = [evidence.kind, UNRECOVERED] if finding.unrecovered else [evidence.kind]
            wanted = [n for n in names if kept.get(n, 0) < self.max_examples]
            for name in wanted:
                kept[name] = kept.get(name, 0) + 1
            if wanted:
                shown.append(finding)
        return shown

    def anomalies(self, causes: Mapping[str, Cause] | None = None) -> Anomalies:
        """Counts and examples; `causes` (by unit) are attached to the examples."""
        examples: dict[str, list[AnomalyExample]] = {}
        for finding in self._bad.values():
            evidence = finding.evidence
            assert evidence is not None  # only findings with evidence are kept in _bad
            names = [evidence.kind, UNRECOVERED] if finding.unrecovered else [evidence.kind]
            cause = None if causes is None else causes.get(finding.unit)
            for name in names:
                kept = examples.setdefault(name, [])
                if len(kept) < self.max_examples:
                    kept.append(
                        AnomalyExample(
                            unit=finding.unit,
                            event_ids=evidence.event_ids or _events_of(cause),
                            expected=evidence.expected,
                            observed=evidence.observed,
                            detail=evidence.detail,
                            cause=cause,
                        )
                    )
        return Anomalies(
            counts=dict(self.counts), examples={k: tuple(v) for k, v in examples.items() if v}
        )

    def staleness(self) -> Staleness:
        if not self._behind_units:
            return Staleness()
        return Staleness(
            max_versions_behind=max(self._behind.values(), default=0),
            mean_versions_behind=self._behind_total / self._behind_units,
        )


def _events_of(cause: Cause | None) -> tuple[str, ...]:
    """The events a cause involved, when the checker could name none itself (a counter off
    by the sum of several events' amounts): an example always says which events."""
    if cause is None:
        return ()
    return tuple(dict.fromkeys(decision.event_id for decision in cause.decisions))
