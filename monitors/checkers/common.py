"""Evidence every model draws the same way."""

from __future__ import annotations

from monitors.anomalies import DUPLICATE_EFFECT, Evidence
from monitors.history import Effect


def duplicate_effects(effects: dict[str, list[Effect]]) -> list[Evidence]:
    """One piece of evidence per event that produced more than one effect."""
    return [
        Evidence(
            DUPLICATE_EFFECT,
            (event_id,),
            1,
            len(found),
            f"event {event_id} produced {len(found)} effects",
        )
        for event_id, found in effects.items()
        if len(found) > 1
    ]
