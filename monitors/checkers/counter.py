"""Checker for the `counter` model: one unit per key, judged by its observed number.

Against the sum over delivered distinct events (`keep`): equal is clean; a surplus that
some dropped (or corrupted) events' amounts explain is `dropped_reconciled`
(`corrupted_reconciled`); a surplus that needs the amount of at least one event that also
got a garbage copy is `applied_garbage`; above every explanation is `duplicate_effect`,
below is `lost_event`, in between is `divergent_entity`. An absent counter reads as 0.
"""

from __future__ import annotations

from chaosbus.monitors.anomalies import (
    APPLIED_GARBAGE,
    DIVERGENT_ENTITY,
    DUPLICATE_EFFECT,
    LOST_EVENT,
    Evidence,
    Finding,
    Status,
    most_specific,
)
from chaosbus.monitors.checkers.common import duplicate_effects, split_missing
from chaosbus.monitors.history import Effect, Number, SourceEvent
from chaosbus.monitors.index import UnitFacts
from chaosbus.monitors.models.counter import expected_total, explaining_subset, same

# Candidate culprits named in an example; enough to start a search, few enough to read.
MAX_CANDIDATES = 5


def counted_effects(facts: UnitFacts) -> dict[str, list[Effect]]:
    """Effects of the events that add to the total: an event with no amount (an order
    update on a payment counter) changes nothing however often it is applied."""
    adding = {e.event_id for e in facts.events if e.amount}
    return {event_id: found for event_id, found in facts.effects.items() if event_id in adding}


def judge_counter(facts: UnitFacts) -> Finding:
    if not facts.observations:
        status: Status = "unobserved" if not facts.effects else "judged"
        evidence = duplicate_effects(counted_effects(facts), facts.garbage)
        return Finding(facts.unit, status=status, evidence=most_specific(evidence))
    keep = expected_total(facts.events, facts.dropped)
    missing = [e for e in facts.events if e.event_id in facts.dropped]
    amounts: list[Number] = [e.amount or 0 for e in missing]
    evidence = duplicate_effects(counted_effects(facts), facts.garbage)
    settled = [o for o in facts.observations if o.observed_at_ms >= facts.settled_at_ms]
    if not settled and not evidence:
        return Finding(facts.unit, status="pending")
    final: Evidence | None = None
    applied: tuple[int, ...] = ()
    for observation in settled:
        value = observation.value or 0
        found = explaining_subset(value - keep, amounts)
        final = None
        if found is None:
            final = _garbage(value, keep, missing, facts) or _explain(
                value, keep, amounts, facts.events
            )
        applied = found or ()
        if final is not None:
            evidence.append(final)
    corrupted = [i for i, e in enumerate(missing) if e.event_id in facts.corrupted]
    counts = split_missing(
        len(missing), len(applied), len(corrupted), len(set(applied) & set(corrupted))
    )
    return Finding(
        facts.unit,
        evidence=most_specific(evidence),
        unrecovered=final is not None,
        dropped_expected=counts[0],
        dropped_reconciled=counts[1],
        corrupted_expected=counts[2],
        corrupted_reconciled=counts[3],
    )


def _garbage(
    value: Number, keep: float, missing: list[SourceEvent], facts: UnitFacts
) -> Evidence | None:
    """`applied_garbage` when the surplus needs some garbage-copied events' amounts."""
    if not facts.garbage:
        return None
    copied = [e for e in facts.events if e.event_id in facts.garbage and e.amount]
    if not copied:
        return None
    amounts: list[Number] = [e.amount or 0 for e in copied] + [e.amount or 0 for e in missing]
    found = explaining_subset(value - keep, amounts)
    culprits = tuple(copied[i].event_id for i in found or () if i < len(copied))
    if not culprits:
        return None
    return Evidence(
        APPLIED_GARBAGE,
        culprits[:MAX_CANDIDATES],
        keep,
        value,
        f"counter above its expected sum by {value - keep:+g}: "
        "the amounts of events whose garbage copies it applied",
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
        amounts=True,
    )
