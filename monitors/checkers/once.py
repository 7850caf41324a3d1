"""Checker for the `once` model: one unit per event id, judged by its effects."""

from __future__ import annotations

from chaosbus.monitors.anomalies import (
    DIVERGENT_ENTITY,
    LOST_EVENT,
    Evidence,
    Finding,
    most_specific,
)
from chaosbus.monitors.checkers.common import duplicate_effects
from chaosbus.monitors.index import UnitFacts


def judge_once(facts: UnitFacts) -> Finding:
    event_id = facts.unit
    effects = facts.effects.get(event_id, [])
    if not facts.events:
        orphan = Evidence(
            DIVERGENT_ENTITY,
            (event_id,),
            0,
            len(effects),
            "effect for an event id the source never carried",
        )
        return Finding(event_id, evidence=orphan)
    if not effects and facts.horizon_ms is not None and facts.settled_at_ms > facts.horizon_ms:
        return Finding(event_id, status="pending")
    evidence = duplicate_effects(facts.effects, facts.garbage)
    if event_id in facts.corrupted:
        return Finding(
            event_id,
            evidence=most_specific(evidence),
            corrupted_expected=int(not effects),
            corrupted_reconciled=int(bool(effects)),
        )
    if event_id in facts.dropped:
        return Finding(
            event_id,
            evidence=most_specific(evidence),
            dropped_expected=int(not effects),
            dropped_reconciled=int(bool(effects)),
        )
    if not effects:
        lost = Evidence(LOST_EVENT, (event_id,), 1, 0, "delivered event produced no effect")
        # Still missing at the end: the only once-model error that is a state, not history.
        return Finding(event_id, evidence=lost, unrecovered=True)
    return Finding(event_id, evidence=most_specific(evidence))
