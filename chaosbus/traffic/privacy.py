"""Keyed pseudonyms for recordings: what `record --hash-fields/--drop-fields` writes (pure,
but for reading the key).

Each selected identifier becomes `h-` + the first 24 hex digits of HMAC-SHA256(key, value),
the function `privacy: hashed` uses for the ledger (`chaosbus.streams.ledger.pseudonym`),
so one identifier gets one pseudonym wherever it appears in the file, in any field. Unlike a
run's salt, the key is the user's (a file or CHAOSBUS_HASH_KEY): two recordings made with
the same key share pseudonyms and can be joined; whoever holds the key can test a guess.

Fail closed (decision 0261):
- hashing asked for without a key is refused before anything is read;
- a record whose value JSON selectors cannot reach (not JSON) is skipped, never written;
- a record in which a hashed identifier's clear bytes still appear anywhere (the key, the
  value, a header) stops the recording, naming the record and where the identifier is left.
  Identifiers shorter than `MIN_SEARCHED_BYTES` are not searched for (too many false hits).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chaosbus.streams.ledger import pseudonym
from chaosbus.traffic.errors import PrivacyRefused
from chaosbus.traffic.records import TrafficRecord
from chaosbus.traffic.selectors import NotJson, Rewriter, Selector, paths_holding

HASH_KEY_ENV = "CHAOSBUS_HASH_KEY"
MIN_KEY_BYTES = 16
MIN_SEARCHED_BYTES = 4


@dataclass(frozen=True)
class PrivacyPolicy:
    hash: tuple[Selector, ...] = ()
    drop: tuple[Selector, ...] = ()

    def __post_init__(self) -> None:
        if any(s.kind == "key" for s in self.drop):
            raise PrivacyRefused("the key cannot be dropped (replay partitions by it): hash it")
        both = {str(s) for s in self.hash} & {str(s) for s in self.drop}
        if both:
            raise PrivacyRefused(f"{', '.join(sorted(both))}: both hashed and dropped")

    @property
    def active(self) -> bool:
        return bool(self.hash or self.drop)

    def describe(self, key_id: str | None) -> dict[str, Any]:
        """What the file's metadata says about its privacy: never the key, only its id."""
        return {
            "hashed": [str(s) for s in self.hash],
            "dropped": [str(s) for s in self.drop],
            "key_id": key_id,
            "pseudonym": "h- + HMAC-SHA256(key, value)[:24 hex]" if self.hash else None,
        }


def load_hash_key(key_file: Path | None, environ: Mapping[str, str] | None = None) -> bytes | None:
    """The hashing key: the file's bytes (a final newline dropped), else CHAOSBUS_HASH_KEY."""
    environ = os.environ if environ is None else environ
    if key_file is not None:
        try:
            key = key_file.read_bytes().rstrip(b"\r\n")
        except OSError as exc:
            raise PrivacyRefused(
                f"--hash-key-file {key_file}: cannot read it ({exc.strerror or exc})"
            ) from exc
        origin = str(key_file)
    elif environ.get(HASH_KEY_ENV):
        key, origin = environ[HASH_KEY_ENV].encode("utf-8"), HASH_KEY_ENV
    else:
        return None
    if len(key) < MIN_KEY_BYTES:
        raise PrivacyRefused(
            f"the hashing key in {origin} has {len(key)} bytes; it needs at least "
            f"{MIN_KEY_BYTES} (e.g. `head -c 32 /dev/urandom > key`)"
        )
    return key


def key_id(key: bytes) -> str:
    """A short public name of a key, so two files can be seen to share one."""
    return "k-" + hmac.new(key, b"chaosbus-traffic key id", hashlib.sha256).hexdigest()[:12]


class Anonymiser:
    """Applies a policy to each record; `apply` returns None for a record it must skip."""

    def __init__(self, policy: PrivacyPolicy, key: bytes | None) -> None:
        if policy.hash and key is None:
            raise PrivacyRefused(
                f"hashing {', '.join(str(s) for s in policy.hash)} needs a key: "
                f"--hash-key-file PATH or {HASH_KEY_ENV}; nothing was recorded"
            )
        self.policy = policy
        secret = key or b""
        self.key_id = key_id(key) if key is not None else None
        self._rewriter = Rewriter(policy.hash, policy.drop, lambda value: pseudonym(secret, value))
        self.skipped: Counter[str] = Counter()

    @property
    def counts(self) -> Counter[str]:
        return self._rewriter.counts

    def apply(self, record: TrafficRecord) -> TrafficRecord | None:
        if not self.policy.active:
            return record
        try:
            out = self._rewriter.apply(record)
        except NotJson as exc:
            self.skipped[str(exc)] += 1
            return None
        self._no_clear_left(record, out)
        return out

    def _no_clear_left(self, source: TrafficRecord, out: TrafficRecord) -> None:
        for selector, original in self._rewriter.originals:
            if len(original) < MIN_SEARCHED_BYTES:
                continue
            where = _where(original, out)
            if where is not None:
                raise PrivacyRefused(
                    f"the {selector} of the record at partition {source.partition} offset "
                    f"{source.offset} is still in clear in {where}: add those fields to "
                    "--hash-fields or --drop-fields; nothing was written"
                )


def _where(original: bytes, out: TrafficRecord) -> str | None:
    """Every place of `out` that still holds `original`, or None."""
    places = []
    if out.key is not None and original in out.key:
        places.append("the key")
    for name, header in out.headers:
        if header is not None and original in header:
            places.append(f"header:{name}")
    if out.value is not None and original in out.value:
        places.append(_value_paths(original, out.value))
    return ", ".join(places) if places else None


def _value_paths(original: bytes, value: bytes) -> str:
    try:
        paths = paths_holding(json.loads(value), original.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        paths = []
    return ", ".join(paths) if paths else "the value"
