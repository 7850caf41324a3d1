"""Corrupt: the value arrives damaged, as from a connector that returns "nonstandard" data.

Stateless. One damage is drawn from `how` per message: `truncate` keeps a drawn prefix,
`flip` inverts `flip_bytes` drawn bytes, `invalid_utf8` splices in a byte sequence no UTF-8
decoder accepts, `non_json` wraps the value so no JSON parser accepts it. In `replace` mode
the damaged copy is the only delivery (the service never receives the event intact); in
`extra` mode the intact original goes first and the damaged copy follows as copy 1, which a
correct service must skip. The source coordinates are kept, so the ledger ties the damaged
bytes to the event they came from.
"""

from __future__ import annotations

import dataclasses
import random
from typing import Literal

from pydantic import Field

from chaosbus.injectors.base import FaultConfig, Mode
from chaosbus.injectors.envelope import Emission, Envelope
from chaosbus.injectors.injector import Injector, Told, no_state
from chaosbus.injectors.limits import MAX_COPIES


class CorruptFault(FaultConfig):
    """The copy's value damaged: `replace` sends only the damaged copy, `extra` both."""

    type: Literal["corrupt"] = "corrupt"
    mode: Mode = "replace"
    how: tuple[Literal["truncate", "flip", "invalid_utf8", "non_json"], ...] = Field(
        default=("truncate", "flip", "invalid_utf8", "non_json"), min_length=1
    )
    flip_bytes: int = Field(default=1, ge=1, le=MAX_COPIES, strict=True)


# A lone continuation byte and an overlong encoding: invalid in every UTF-8 decoder.
INVALID_UTF8 = b"\x80\xc0\xaf"
NOT_JSON_PREFIX = b"\x00<not-json>"
# Every damaged copy's ledger variant: this, then the damage (`corrupt:flip`).
VARIANT = "corrupt:"


def damage(how: str, value: bytes, rng: random.Random, flip_bytes: int) -> bytes:
    """The damaged bytes; never equal to `value`, whatever its length."""
    if how == "truncate":
        return value[: rng.randrange(len(value))] if value else INVALID_UTF8
    if how == "flip":
        if not value:
            return INVALID_UTF8
        damaged = bytearray(value)
        for index in rng.sample(range(len(value)), min(flip_bytes, len(value))):
            damaged[index] ^= 0xFF
        return bytes(damaged)
    if how == "invalid_utf8":
        cut = rng.randint(0, len(value))
        return value[:cut] + INVALID_UTF8 + value[cut:]
    if how == "non_json":
        return NOT_JSON_PREFIX + value
    raise AssertionError(f"unhandled corruption {how!r}")  # pragma: no cover


def apply(
    config: CorruptFault, envelope: Envelope, state: None, rng: random.Random, now_ms: int
) -> tuple[tuple[Emission, ...], None]:
    how = config.how[rng.randrange(len(config.how))]
    value = damage(how, envelope.value or b"", rng, config.flip_bytes)
    damaged = dataclasses.replace(envelope, value=value, size=0)
    if config.mode == "replace":
        return (Emission(damaged, 0, now_ms, variant=VARIANT + how),), state
    original = Emission(envelope, 0, now_ms)
    return (original, Emission(damaged, 1, now_ms, variant=VARIANT + how)), state


def garbage(variant: str) -> bool:
    """Every damaged copy is one a correct service must refuse."""
    return variant.startswith(VARIANT)


def explain(told: Told) -> str:
    return f"{told.event} hit by {told.by} (corrupt)"


FAULT = Injector(
    config=CorruptFault,
    initial_state=no_state,
    apply=apply,
    explain=explain,
    garbage=garbage,
    ledgered=(VARIANT + "flip",),
)
