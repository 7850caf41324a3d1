"""Seeded randomness derived from message identity.

Every decision has its own randomness, derived from (seed, route id, partition, offset)
through BLAKE2b. Python's `hash()` is salted per process, so it would make a replayed run
diverge; a cryptographic digest is stable across processes, machines and versions.
Deriving per message (rather than sharing one stream) is what makes a decision independent
of timing, of how partitions interleave and of how many interposer replicas split the work.

The derivation (decision 0130) gives each message a stream of 64-bit words:

* block 0 = BLAKE2b-512, personalised `chaosbus-inj-v2`, over the length-prefixed fields
  "decision", seed, route id, partition, offset (decimal; the route id in UTF-8);
* block k >= 1 = BLAKE2b-512, same personalisation, keyed with block 0, over k as 8 bytes
  big-endian (counter mode), computed only when the words before it are used up;
* word j = the j-th 8-byte big-endian slice of blocks 0, 1, 2, ... laid end to end.

The plan takes one uniform draw per fault first; the injector of a fault that fires goes on
with the words after them. `DecisionStream` serves both: a `random.Random` whose generator
is this word stream instead of a Mersenne Twister, whose seeding cost ten times the digest.
"""

from __future__ import annotations

import hashlib
import random
import struct
from typing import Any, NoReturn

_PERSON = b"chaosbus-inj-v2"
_BLOCK_BYTES = 64  # BLAKE2b's largest digest
_WORD_BITS = 64
_BLOCK_WORDS = _BLOCK_BYTES // 8
# unpack_from for 0..8 words, so the draws of a pass read only what they need.
_UNPACK = tuple(struct.Struct(f">{n}Q").unpack_from for n in range(_BLOCK_WORDS + 1))
_COUNTER = struct.Struct(">Q")
_UNIT = 2.0**-53  # 53 bits: the precision of a float mantissa, so every draw is exact
# Field separator that cannot occur in the decimal numbers and is unlikely in topic names;
# lengths are also encoded so ("a", "bc") and ("ab", "c") can never collide.
_SEP = b"\x1f"


def _field(part: bytes) -> bytes:
    return b"%d%b%b%b" % (len(part), _SEP, part, _SEP)


def _digest(person: bytes, size: int, *parts: bytes) -> bytes:
    material = b"".join(_field(part) for part in parts)
    return hashlib.blake2b(material, digest_size=size, person=person).digest()


class DecisionStream(random.Random):
    """The randomness of one decision: the per-fault draws, then the injector's.

    Every `random.Random` method (randint, shuffle, sample, expovariate...) works, drawn
    from the message's word stream; it cannot be reseeded, nor its state set.
    """

    def __init__(self, block: bytes) -> None:
        # No super().__init__(): it would seed the Mersenne Twister this class never uses.
        self.gauss_next = None
        self._key = block
        self._block = 0  # the counter of the block in `_buffer`
        self._buffer = block
        self._next = 0  # the next unused word of `_buffer`

    def draws(self, count: int) -> list[float]:
        """`count` uniform numbers in [0, 1): the next words, as `random()` would give them."""
        start = self._next
        if start + count <= _BLOCK_WORDS:  # the usual case: within the current block
            self._next = start + count
            return [(word >> 11) * _UNIT for word in _UNPACK[count](self._buffer, start * 8)]
        return [self.random() for _ in range(count)]

    def random(self) -> float:
        return (self._word() >> 11) * _UNIT

    def getrandbits(self, k: int, /) -> int:
        """The top `k` bits of as many words as they need, the first word the highest."""
        if k < 0:
            raise ValueError("number of bits must be non-negative")
        if k <= _WORD_BITS:
            return self._word() >> (_WORD_BITS - k) if k else 0
        words = -(-k // _WORD_BITS)
        value = 0
        for _ in range(words):
            value = (value << _WORD_BITS) | self._word()
        return value >> (words * _WORD_BITS - k)

    def seed(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("a decision stream is derived from its message; it cannot be reseeded")

    def getstate(self) -> NoReturn:
        raise TypeError("a decision stream has no Mersenne Twister state")

    def setstate(self, state: Any) -> NoReturn:
        raise TypeError("a decision stream has no Mersenne Twister state")

    def _word(self) -> int:
        if self._next == _BLOCK_WORDS:
            self._block += 1
            self._buffer = hashlib.blake2b(
                _COUNTER.pack(self._block), digest_size=_BLOCK_BYTES, key=self._key, person=_PERSON
            ).digest()
            self._next = 0
        word: int = _UNPACK[1](self._buffer, self._next * 8)[0]
        self._next += 1
        return word


class DecisionSource:
    """Derives the `DecisionStream` of each message of one seed.

    Hashing the fields that do not change per message once per route, then copying that
    hash state per message, halves the cost of a digest; the result is `decision_stream`'s.
    """

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._prefixes: dict[str, hashlib.blake2b] = {}

    def stream(self, route: str, partition: int, offset: int) -> DecisionStream:
        """The randomness for the decision about one source message (or request)."""
        prefix = self._prefixes.get(route)
        if prefix is None:
            material = b"".join(_field(part) for part in _prefix_fields(self.seed, route))
            prefix = hashlib.blake2b(material, digest_size=_BLOCK_BYTES, person=_PERSON)
            self._prefixes[route] = prefix
        hasher = prefix.copy()
        part, off = b"%d" % partition, b"%d" % offset
        hasher.update(b"%d\x1f%b\x1f%d\x1f%b\x1f" % (len(part), part, len(off), off))
        return DecisionStream(hasher.digest())


def _prefix_fields(seed: int, route: str) -> tuple[bytes, ...]:
    return b"decision", b"%d" % seed, route.encode("utf-8")


def decision_stream(seed: int, route: str, partition: int, offset: int) -> DecisionStream:
    """The randomness for the decision about one source message, derived from scratch."""
    parts = (*_prefix_fields(seed, route), b"%d" % partition, b"%d" % offset)
    return DecisionStream(_digest(_PERSON, _BLOCK_BYTES, *parts))


def key_fraction(seed: int, key: bytes | None) -> float:
    """Map a message key to a stable number in [0, 1), the same in every process.

    Useful to select a fixed share of keys without remembering which keys were seen.
    A null key is its own bucket, distinct from the empty key. Not a decision: it keeps
    the first personalisation, so its values did not change with decision 0130.
    """
    material = b"\x00null" if key is None else b"\x01" + key
    digest = _digest(b"chaosbus-inj-v1", 16, b"key", b"%d" % seed, material)
    return (int.from_bytes(digest[:8], "big") >> 11) * _UNIT
