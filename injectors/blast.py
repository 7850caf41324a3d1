"""Blast-radius bookkeeping: the only fault-plan state shared across partitions.

The counters live per plan instance (per interposer process). Because they are shared,
the message at which a cap starts to bind depends on how partitions interleave; while no
cap binds, they never change a decision.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

from injectors.spec import BlastRadius


class BlastGuard:
    """Counts faulted messages and seen/touched keys, and says when a cap refuses."""

    def __init__(self, limits: BlastRadius) -> None:
        self.limits = limits
        self.faulted = 0
        # Keys are remembered only when a key share is declared; memory grows with the
        # number of distinct keys, which is the price of an exact share.
        self._seen_keys: set[bytes | None] = set()
        self._touched_keys: set[bytes | None] = set()

    def protecting_glob(self, topic: str) -> str | None:
        """The first protected glob matching `topic`, if any."""
        return next((g for g in self.limits.protected_topics if fnmatchcase(topic, g)), None)

    def see(self, key: bytes | None) -> None:
        if self.limits.max_key_share is not None:
            self._seen_keys.add(key)

    def refusal(self, key: bytes | None) -> str | None:
        """Why a fault may not touch a message with this key now, or None if it may."""
        cap = self.limits.max_faults
        if cap is not None and self.faulted >= cap:
            return "max_faults"
        share = self.limits.max_key_share
        if share is None or key in self._touched_keys:
            return None
        # Division, not multiplication: (t+1)/seen rounds to the same float as a share
        # written with that decimal value, so an exact boundary is allowed.
        seen = max(len(self._seen_keys), 1)
        return "max_key_share" if (len(self._touched_keys) + 1) / seen > share else None

    def record(self, key: bytes | None) -> None:
        """Account for one faulted source message."""
        self.faulted += 1
        if self.limits.max_key_share is not None:
            self._touched_keys.add(key)

    @property
    def touched_keys(self) -> int:
        return len(self._touched_keys)

    @property
    def seen_keys(self) -> int:
        return len(self._seen_keys)
