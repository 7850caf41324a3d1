"""Checker for the `counter` model: one unit per key, judged by its observed number.

Against the sum over delivered distinct events (`keep`): equal is clean; a surplus that
some dropped events' amounts explain is `dropped_reconciled`; above every explanation is
`duplicate_effect`, below is `lost_event`, in between is `divergent_entity`. An absent
counter reads as 0.
"""

from __future__ import annotations

from monitors.anomalies import (
    DIVERGENT_ENTITY,
    DUPLICATE_EFFECT,
    LOST_EVENT,
    Evidence,
    Finding,
    Status,
    most_specific,
)
from monitors.checkers.common import duplicate_effects
from monitors.history import Number, SourceEvent
from monitors.index import UnitFacts
from monitors.models.counter import expected_total, reconciled_count, same

# Candidate culprits named in an example; enough to start a search, few enough to read.
MAX_CANDIDATES = 5


def judge_counter(facts: UnitFacts) -> Finding:
    if not facts.observations:
        status: Status = "unobserved" if not facts.effects else "judged"
        return Finding(
            facts.unit, status=status, evidence=most_specific(duplicate_effects(facts.effects))
        )
    keep = expected_total(facts.events, facts.dropped)
    amounts: list[Number] = [e.amount or 0 for e in facts.events if e.event_id in facts.dropped]
    evidence = duplicate_effects(facts.effects)
    settled = [o for o in facts.observations if o.observed_at_ms >= facts.settled_at_ms]
    if not settled and not evidence:
        return Finding(facts.unit, status="pending")
    final: Evidence | None = None
    reconciled = 0
    for observation in settled:
        value = observation.value or 0
        count = reconciled_count(value - keep, amounts)
        final = None if count is not None else _explain(value, keep, amounts, facts.events)
        reconciled = count or 0
        if final is not None:
            evidence.append(final)
    return Finding(
        facts.unit,
        evidence=most_specific(evidence),
        unrecovered=final is not None,
        dropped_expected=len(amounts) - reconciled,
        dropped_reconciled=reconciled,
    )


def _explain(
    value: Number, keep: float, amounts: list[Number], events: list[SourceEvent]
) -> Evidence:
    upper = keep + sum(a for a in amounts if a > 0)
    lower = keep + sum(a for a in amounts if a < 0)
    delta = value - keep
    if value > upper:
        kind, what = DUPLICATE_EFFECT, "above"
    elif value < lower:
        kind, what = LOST_EVENT, "below"
    else:
        kind, what = DIVERGENT_ENTITY, "off"
    # Events whose amount equals the difference are the likeliest single culprits.
    culprits = tuple(
        e.event_id for e in events if e.amount is not None and same(abs(delta), abs(e.amount))
    )
    return Evidence(
        kind,
        culprits[:MAX_CANDIDATES],
        keep,
        value,
        f"counter {what} its expected sum by {delta:+g}",
    )
