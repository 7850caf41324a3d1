"""Blast-radius bookkeeping: the only fault-plan state shared across partitions.

The counters live per plan instance (per interposer process). Because they are shared,
the message at which a cap starts to bind depends on how partitions interleave; while no
cap binds, they never change a decision.

`max_faults_per_s` is a token bucket over the plan's logical time (`now_ms` of each
decision), never a clock: it holds up to one second's worth of faults (at least one) and
refills at the declared rate, so the same input at the same logical times is capped at the
same messages. Only a fault that is actually injected takes a token. Tokens are exact
fractions, so "one fault every 500 ms" is exactly that, with no float drift over a run.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from fractions import Fraction

from chaosbus.injectors.spec import BlastRadius

# Every cap that can turn a fault into a pass, as the ledger's `reason` names it.
CAPS = ("max_copies_per_message", "max_faults", "max_faults_per_s", "max_key_share")


class BlastGuard:
    """Counts faulted messages and seen/touched keys, and says when a cap refuses."""

    def __init__(self, limits: BlastRadius) -> None:
        self.limits = limits
        self.faulted = 0
        # Keys are remembered only when a key share is declared; memory grows with the
        # number of distinct keys, which is the price of an exact share.
        self._seen_keys: set[bytes | None] = set()
        self._touched_keys: set[bytes | None] = set()
        rate = limits.max_faults_per_s
        self._rate_per_ms = Fraction(rate or 0) / 1000
        self._bucket_size = max(Fraction(1), Fraction(rate or 0))
        self._tokens = self._bucket_size
        self._refilled_at_ms: int | None = None

    def protecting_glob(self, topic: str) -> str | None:
        """The first protected glob matching `topic`, if any."""
        return next((g for g in self.limits.protected_topics if fnmatchcase(topic, g)), None)

    def see(self, key: bytes | None) -> None:
        if self.limits.max_key_share is not None:
            self._seen_keys.add(key)

    def refusal(self, key: bytes | None, now_ms: int, copies: int = 0) -> str | None:
        """Why a fault adding `copies` extra copies may not touch this message at `now_ms`."""
        most_copies = self.limits.max_copies_per_message
        if most_copies is not None and copies > most_copies:
            return "max_copies_per_message"
        cap = self.limits.max_faults
        if cap is not None and self.faulted >= cap:
            return "max_faults"
        if self.limits.max_faults_per_s is not None and self._refill(now_ms) < 1.0:
            return "max_faults_per_s"
        share = self.limits.max_key_share
        if share is None or key in self._touched_keys:
            return None
        # Division, not multiplication: (t+1)/seen rounds to the same float as a share
        # written with that decimal value, so an exact boundary is allowed.
        seen = max(len(self._seen_keys), 1)
        return "max_key_share" if (len(self._touched_keys) + 1) / seen > share else None

    def _refill(self, now_ms: int) -> Fraction:
        """Tokens in the bucket at `now_ms`; logical time that goes back refills nothing."""
        last = self._refilled_at_ms
        if last is not None and now_ms > last:
            refill = (now_ms - last) * self._rate_per_ms
            self._tokens = min(self._bucket_size, self._tokens + refill)
        if last is None or now_ms > last:
            self._refilled_at_ms = now_ms
        return self._tokens

    def record(self, key: bytes | None) -> None:
        """Account for one faulted source message (after `refusal` said it may)."""
        self.faulted += 1
        if self.limits.max_faults_per_s is not None:
            self._tokens -= 1
        if self.limits.max_key_share is not None:
            self._touched_keys.add(key)

    @property
    def touched_keys(self) -> int:
        return len(self._touched_keys)

    @property
    def seen_keys(self) -> int:
        return len(self._seen_keys)
