"""Checker for the `entity` model: one unit per key, judged by its observed version.

Evidence comes from three places:

- each settled observation against the expected state over delivered events (`keep`);
  a state only a dropped, newer event explains is `dropped_reconciled`, not an error;
- the observation series: a present version lower than one observed earlier is a
  `stale_overwrite` whenever it happened (a delete outranks what it deletes, so a correct
  service never shows a version go down);
- effects, when an effects topic exists: an event applied twice is a `duplicate_effect`,
  and an event applied after a higher-ranked one is a `stale_overwrite`.

A settled observation that differs from `keep` is named, most specific first:
present while `keep` is a delete: `resurrected`; absent while an older delete exists, or an
older delivered version: `stale_overwrite`; absent with no delete to explain it:
`lost_event`; anything else (a version the source never had, or newer than any delivered):
`divergent_entity`, or `applied_garbage` when the entity also got a garbage copy (the one
delivery that can carry a version no event has), and when the deleting event's own garbage
copy, read as an update, shows the delete's version present again. Events sent only as
garbage count as dropped (`corrupted_expected` / `corrupted_reconciled`).
"""

from __future__ import annotations

from chaosbus.monitors.anomalies import (
    APPLIED_GARBAGE,
    DIVERGENT_ENTITY,
    LOST_EVENT,
    RESURRECTED,
    STALE_OVERWRITE,
    Evidence,
    Finding,
    most_specific,
)
from chaosbus.monitors.checkers.common import duplicate_effects, split_missing
from chaosbus.monitors.history import Effect, Number, Observation, SourceEvent
from chaosbus.monitors.index import UnitFacts
from chaosbus.monitors.models.entity import EntityState, entity_states, expected_state, shows


def judge_entity(facts: UnitFacts) -> Finding:
    # Resolved per-event states are built only on the paths that need them: a clean
    # entity costs one max over its events.
    events = facts.events
    keep = expected_state(events, facts.dropped)
    garbage = bool(facts.garbage)
    evidence = duplicate_effects(facts.effects, facts.garbage)
    evidence += _effect_order(facts.effects, events)
    evidence += _series(facts.observations, events, garbage=garbage, origin_ms=facts.origin_ms)
    settled = [o for o in facts.observations if o.observed_at_ms >= facts.settled_at_ms]
    if not settled:
        if evidence or facts.effects:
            return Finding(facts.unit, evidence=most_specific(evidence))
        return Finding(facts.unit, status="pending" if facts.observations else "unobserved")
    final: Evidence | None = None
    reconciled: str | None = None
    for observation in settled:
        final, reconciled = _judge_value(observation.value, keep, events, facts.dropped)
        if final is not None:
            if garbage and _garbage_explains(final, observation.value, keep, facts.garbage, events):
                final = _garbage(final)
            evidence.append(final)
    value = settled[-1].value
    counts = split_missing(
        len(facts.dropped),
        int(reconciled is not None),
        len(facts.corrupted),
        int(reconciled is not None and reconciled in facts.corrupted),
    )
    return Finding(
        facts.unit,
        evidence=most_specific(evidence),
        unrecovered=final is not None,
        dropped_expected=counts[0],
        dropped_reconciled=counts[1],
        corrupted_expected=counts[2],
        corrupted_reconciled=counts[3],
        staleness=0
        if final is None
        else _behind(value, keep, entity_states(events), facts.dropped),
    )


def _judge_value(
    value: Number | None,
    keep: EntityState | None,
    events: list[SourceEvent],
    dropped: frozenset[str],
) -> tuple[Evidence | None, str | None]:
    """(evidence or None, the dropped event that explains the value, if one does)."""
    if shows(keep, value):
        return None, None
    states = entity_states(events)
    for state in states:
        newer = keep is None or state.rank > keep.rank
        if state.event_id in dropped and newer and shows(state, value):
            return None, state.event_id
    return _explain(value, keep, states), None


def _garbage_explains(
    found: Evidence,
    value: Number | None,
    keep: EntityState | None,
    garbage: frozenset[str],
    events: list[SourceEvent],
) -> bool:
    """A version no delivered event has; or the delete's own garbage copy, read as an update,
    leaving the entity present at the delete's version or at one no event has (what
    `resurrected` would otherwise say)."""
    if found.kind == DIVERGENT_ENTITY:
        return True
    if found.kind != RESURRECTED or keep is None or keep.event_id not in garbage:
        return False
    return value == keep.version or all(e.version != value for e in events)


def _garbage(divergent: Evidence) -> Evidence:
    """A state no delivered event has, on an entity that got a garbage copy: that copy."""
    return Evidence(
        APPLIED_GARBAGE,
        divergent.event_ids,
        divergent.expected,
        divergent.observed,
        f"{divergent.detail}: a garbage copy was applied",
    )


def _explain(value: Number | None, keep: EntityState | None, states: list[EntityState]) -> Evidence:
    shown = "absent" if value is None else f"v{value}"
    expected = "absent" if keep is None else keep.describe()
    ids = () if keep is None else (keep.event_id,)
    if keep is None:
        return Evidence(DIVERGENT_ENTITY, ids, expected, shown, "present, but no delivered event")
    if keep.deleted:
        return Evidence(RESURRECTED, ids, expected, shown, "deleted in the source, present")
    if value is None:
        deletes = [s for s in states if s.deleted and s.rank < keep.rank]
        if deletes:
            return Evidence(
                STALE_OVERWRITE,
                (deletes[-1].event_id, *ids),
                expected,
                shown,
                "an older delete won over a newer version",
            )
        return Evidence(LOST_EVENT, ids, expected, shown, "delivered, never applied")
    older = [s for s in states if not s.deleted and s.version == value and s.rank < keep.rank]
    if older:
        return Evidence(
            STALE_OVERWRITE,
            (older[0].event_id, *ids),
            expected,
            shown,
            "an older version won over a newer delivered one",
        )
    return Evidence(DIVERGENT_ENTITY, ids, expected, shown, "a version no delivered event has")


def _series(
    observations: list[Observation],
    events: list[SourceEvent],
    *,
    garbage: bool = False,
    origin_ms: int | None = None,
) -> list[Evidence]:
    """A version that went down: `stale_overwrite`, or `applied_garbage` when the lower
    version is one no event has and the entity got a garbage copy."""
    top: Observation | None = None
    for seen in observations:
        if seen.value is None:
            continue
        if top is not None and top.value is not None and seen.value < top.value:
            ids = tuple(e.event_id for e in events if e.version in (seen.value, top.value))
            unknown = all(e.version != seen.value for e in events)
            return [
                Evidence(
                    APPLIED_GARBAGE if garbage and unknown else STALE_OVERWRITE,
                    ids,
                    f"v{top.value}",
                    f"v{seen.value}",
                    _went_down(top, seen, origin_ms),
                )
            ]
        if top is None or (top.value is not None and seen.value > top.value):
            top = seen
    return []


def _went_down(top: Observation, seen: Observation, origin_ms: int | None) -> str:
    """`v5 observed at 5.5 s, then v4 at 6.2 s` (seconds since the run's start, with the
    decimals that tell the two apart); instants in epoch ms when there is no start."""
    first, then = top.observed_at_ms, seen.observed_at_ms
    if origin_ms is None:
        return f"v{top.value} observed at {first} ms, then v{seen.value} at {then} ms"
    a, b = (first - origin_ms) / 1000, (then - origin_ms) / 1000
    digits = next((d for d in (1, 2) if f"{a:.{d}f}" != f"{b:.{d}f}"), 3)
    return f"v{top.value} observed at {a:.{digits}f} s, then v{seen.value} at {b:.{digits}f} s"


def _effect_order(effects: dict[str, list[Effect]], events: list[SourceEvent]) -> list[Evidence]:
    if not effects:
        return []
    by_id = {s.event_id: s for s in entity_states(events)}
    applied = sorted(
        (e for found in effects.values() for e in found if e.event_id in by_id),
        key=lambda e: e.observed_at_ms,
    )
    top: EntityState | None = None
    for effect in applied:
        state = by_id[effect.event_id]
        if top is not None and state.rank < top.rank:
            return [
                Evidence(
                    STALE_OVERWRITE,
                    (state.event_id, top.event_id),
                    top.describe(),
                    state.describe(),
                    "effect of an older version after a newer one",
                )
            ]
        if top is None or state.rank > top.rank:
            top = state
    return []


def _behind(
    value: Number | None,
    keep: EntityState | None,
    states: list[EntityState],
    dropped: frozenset[str],
) -> int:
    """Delivered versions newer than the one observed (absent: newer than the last delete)."""
    if keep is None:
        return 0
    if value is None:
        floor = max(
            (s.version for s in states if s.deleted and s.event_id not in dropped),
            default=float("-inf"),
        )
    else:
        floor = value
    return len({s.rank for s in states if s.event_id not in dropped and s.version > floor})
