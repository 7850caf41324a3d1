"""Evidence every model draws the same way."""

from __future__ import annotations

from collections.abc import Collection

from chaosbus.monitors.anomalies import APPLIED_GARBAGE, DUPLICATE_EFFECT, Evidence
from chaosbus.monitors.history import Effect


def duplicate_effects(
    effects: dict[str, list[Effect]], garbage: Collection[str] = ()
) -> list[Evidence]:
    """One piece of evidence per event that produced more than one effect.

    An event that also got a garbage copy (`garbage`) and shows a second effect applied
    that copy: `applied_garbage`, the more specific name.
    """
    return [
        Evidence(
            APPLIED_GARBAGE if event_id in garbage else DUPLICATE_EFFECT,
            (event_id,),
            1,
            len(found),
            f"event {event_id} produced {len(found)} effects"
            + (", one from its garbage copy" if event_id in garbage else ""),
        )
        for event_id, found in effects.items()
        if len(found) > 1
    ]


def split_missing(
    missing: int, reconciled: int, corrupted: int, corrupted_reconciled: int
) -> tuple[int, int, int, int]:
    """(dropped_expected, dropped_reconciled, corrupted_expected, corrupted_reconciled) from
    the events never delivered intact (`missing`, of which `corrupted` were sent as garbage)
    and how many of each were applied anyway."""
    return (
        missing - corrupted - (reconciled - corrupted_reconciled),
        reconciled - corrupted_reconciled,
        corrupted - corrupted_reconciled,
        corrupted_reconciled,
    )
