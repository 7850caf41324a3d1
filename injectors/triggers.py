"""Count-exact triggers: per (fault, source partition) counts of matches and of faults.

Counting per partition, like every other piece of plan state, keeps a trigger as
deterministic as the input order of each partition, however partitions interleave or
replicas split them. A fault without a trigger costs nothing here.
"""

from __future__ import annotations

from chaosbus.injectors.base import Trigger

Partition = tuple[str, int]


class TriggerBook:
    def __init__(self) -> None:
        self._matched: dict[tuple[int, Partition], int] = {}
        self._fired: dict[tuple[int, Partition], int] = {}

    def admit(self, index: int, part: Partition, trigger: Trigger | None) -> bool:
        """Count one matching message; may the fault take it (before the probability draw)?"""
        if trigger is None:
            return True
        slot = (index, part)
        position = self._matched.get(slot, 0) + 1
        self._matched[slot] = position
        if trigger.times is not None and self._fired.get(slot, 0) >= trigger.times:
            return False
        return trigger.eligible(position)

    def record(self, index: int, part: Partition, trigger: Trigger | None) -> None:
        """The fault was applied to a message of this partition."""
        if trigger is not None:
            slot = (index, part)
            self._fired[slot] = self._fired.get(slot, 0) + 1
