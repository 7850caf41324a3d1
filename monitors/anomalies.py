"""The anomaly vocabulary, its precedence, and the tally that turns findings into counts.

Every checker judges one *unit* at a time (an entity key for the `entity` and `counter`
models, an event id for `once`) and may gather several pieces of evidence against it. One
bad unit is counted once, under its most specific anomaly, in this order:

1. `resurrected` - a deleted entity is present: the most specific state error there is.
2. `stale_overwrite` - an older version won over a newer delivered one: names the cause
   (ordering), so it beats the idempotency and absence errors below.
3. `applied_garbage` - the service applied a corrupted or drifted copy (`mode: extra`)
   that it should have skipped: state no intact delivery explains but that copy does. It
   names the cause, so it beats the plain duplicate and divergence it would otherwise be.
   Per model, on a unit with at least one such copy delivered:
   - `entity`: a version no delivered event has (what `divergent_entity` would say: the
     copy's version field was renamed, removed or retyped and the service stored what it
     read), as a settled observation or as the lower end of a version that went down; or
     the entity present, at the final delete's version or one no event has, when that
     delete had such a copy (its type drifted, so the service read it as an update);
   - `counter`: a settled number above the expected sum by exactly the amounts of some of
     the events that had such a copy (the copy's amount survived and was added again),
     possibly together with reconciled drops;
   - `once` (and effects in any model): an event with such a copy produced more than one
     effect.
4. `duplicate_effect` - one event applied more than once (a counter above its sum).
5. `lost_event` - a delivered event never took effect (a counter below its sum).
6. `divergent_entity` - wrong in a way none of the above explains: the catch-all.

`unrecovered` is not a sixth kind but a marker on top of one: the unit's *final* state is
still wrong when the window ends. It is counted separately (a unit can be both
`stale_overwrite` and `unrecovered`) and is left out of `total`; a transient error that
the service repaired is counted under its kind only. Effects are history, so a `once`
duplicate never becomes unrecovered; a lost effect does.

`stalled_consumer` is not about a unit but about the service itself: a partition of the
interposed topic whose committed offset stopped moving while messages waited (see
`monitors.lag`). It counts partitions, is added to `total`, and no checker emits it.

`unpublished_event` and `automation_reordered` are about the automation, upstream of the
topic: with `chaosbus http` in front of its webhook, the request log says which events it
accepted (2xx) and when; `monitors.handoff` names those never published to the source topic
and the records whose events it published in another order than it accepted them. They are
counted by `chaosbus handoff`, apart from the service's anomalies (`AUTOMATION_ANOMALIES`).

`dropped_expected` and `dropped_reconciled` count *events* the ledger dropped on purpose:
missing as expected, or applied anyway (the service reconciled from elsewhere).
`corrupted_expected` and `corrupted_reconciled` count the same for events sent only as a
corrupted or drifted copy (`mode: replace`): the service never received them intact, so
missing is expected; applied anyway (it read through the damage, or reconciled) is not an
error either. A replayed copy is an intact duplicate delivered late: applying it shows as
`duplicate_effect` or `stale_overwrite` like any other duplicate.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from chaosbus.monitors.history import Number

RESURRECTED = "resurrected"
STALE_OVERWRITE = "stale_overwrite"
APPLIED_GARBAGE = "applied_garbage"
DUPLICATE_EFFECT = "duplicate_effect"
LOST_EVENT = "lost_event"
DIVERGENT_ENTITY = "divergent_entity"
UNRECOVERED = "unrecovered"
DROPPED_EXPECTED = "dropped_expected"
DROPPED_RECONCILED = "dropped_reconciled"
STALLED_CONSUMER = "stalled_consumer"
CORRUPTED_EXPECTED = "corrupted_expected"
CORRUPTED_RECONCILED = "corrupted_reconciled"
UNPUBLISHED_EVENT = "unpublished_event"
AUTOMATION_REORDERED = "automation_reordered"

# Most specific first: the order the module docstring argues for.
PRECEDENCE = (
    RESURRECTED,
    STALE_OVERWRITE,
    APPLIED_GARBAGE,
    DUPLICATE_EFFECT,
    LOST_EVENT,
    DIVERGENT_ENTITY,
)
SERVICE_ANOMALIES = (STALLED_CONSUMER,)
AUTOMATION_ANOMALIES = (UNPUBLISHED_EVENT, AUTOMATION_REORDERED)  # `chaosbus handoff`
BAD_NAMES = (*PRECEDENCE, *SERVICE_ANOMALIES)  # what `total` adds up
ANOMALY_NAMES = (*PRECEDENCE, UNRECOVERED, *SERVICE_ANOMALIES)
COUNT_NAMES = (
    *ANOMALY_NAMES,
    DROPPED_EXPECTED,
    DROPPED_RECONCILED,
    CORRUPTED_EXPECTED,
    CORRUPTED_RECONCILED,
)

Shown = str | Number | None


@dataclass(frozen=True, slots=True)
class Evidence:
    """One reason to call a unit bad, with what was expected and what was seen.

    `amounts`: expected and observed are sums of amounts (a counter's total), not counts
    of effects or versions, so a cause must not read them as "applied N times"."""

    kind: str
    event_ids: tuple[str, ...]
    expected: Shown
    observed: Shown
    detail: str
    amounts: bool = False


def most_specific(evidence: Iterable[Evidence]) -> Evidence | None:
    """The evidence whose kind comes first in `PRECEDENCE`; ties keep the first found."""
    best: Evidence | None = None
    for item in evidence:
        if best is None or PRECEDENCE.index(item.kind) < PRECEDENCE.index(best.kind):
            best = item
    return best


Status = Literal["judged", "pending", "unobserved"]


@dataclass(frozen=True, slots=True)
class Finding:
    """The verdict on one unit.

    `pending`: events too recent to judge (not settled); `unobserved`: no downstream
    observation of a unit the model judges by observations. Neither is counted as bad.
    `staleness` is the versions the final state is behind (entity model only).
    """

    unit: str
    status: Status = "judged"
    evidence: Evidence | None = None
    unrecovered: bool = False
    dropped_expected: int = 0
    dropped_reconciled: int = 0
    corrupted_expected: int = 0
    corrupted_reconciled: int = 0
    staleness: int | None = None
