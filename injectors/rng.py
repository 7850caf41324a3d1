"""Seeded randomness derived from message identity.

Every decision gets its own `random.Random`, seeded from (seed, topic, partition, offset)
through BLAKE2b. Python's `hash()` is salted per process, so it would make a replayed run
diverge; a cryptographic digest is stable across processes, machines and versions.
Deriving per message (rather than sharing one stream) is what makes a decision independent
of timing, of how partitions interleave and of how many interposer replicas split the work.
"""

from __future__ import annotations

import hashlib
import random

_DIGEST_BYTES = 16
# Field separator that cannot occur in the decimal numbers and is unlikely in topic names;
# lengths are also encoded so ("a", "bc") and ("ab", "c") can never collide.
_SEP = b"\x1f"


def _digest(*parts: bytes) -> bytes:
    hasher = hashlib.blake2b(digest_size=_DIGEST_BYTES, person=b"chaosbus-inj-v1")
    for part in parts:
        hasher.update(str(len(part)).encode() + _SEP + part + _SEP)
    return hasher.digest()


def decision_rng(seed: int, topic: str, partition: int, offset: int) -> random.Random:
    """Return the RNG for the decision about one source message."""
    digest = _digest(
        b"decision",
        str(seed).encode(),
        topic.encode("utf-8"),
        str(partition).encode(),
        str(offset).encode(),
    )
    return random.Random(int.from_bytes(digest, "big"))


def key_fraction(seed: int, key: bytes | None) -> float:
    """Map a message key to a stable number in [0, 1), the same in every process.

    Useful to select a fixed share of keys without remembering which keys were seen.
    A null key is its own bucket, distinct from the empty key.
    """
    material = b"\x00null" if key is None else b"\x01" + key
    digest = _digest(b"key", str(seed).encode(), material)
    # 53 bits: the precision of a float mantissa, so every value is exactly representable.
    return (int.from_bytes(digest[:8], "big") >> 11) / float(1 << 53)
