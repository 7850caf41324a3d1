"""Schema drift: a JSON object's shape changes under the service, as after a connector upgrade.

Stateless. One change is drawn from `change` per message, applied to `field` or to a field
drawn from the object's own (top-level, in sorted order so the draw is reproducible):
`rename` (the field gets `rename_suffix`), `remove`, `retype` (a number becomes its string,
a string that reads as a number becomes that number, anything else becomes its string),
`enum` (a string value replaced by `enum_value`), `extra` (an unexpected field added).
`replace` and `extra` modes as for corrupt. A value that is not a JSON object cannot drift:
it is delivered unchanged and the variant says `schema_drift:not_json`, so the user hears
that the fault found nothing to change.
"""

from __future__ import annotations

import dataclasses
import json
import random
from typing import Literal

from pydantic import Field

from chaosbus.injectors.base import FaultConfig, Mode
from chaosbus.injectors.envelope import Emission, Envelope
from chaosbus.injectors.injector import Injector, Told, no_state
from chaosbus.injectors.limits import MAX_NAME, Name
from chaosbus.injectors.match import Payload

# Every drifted copy's ledger variant: this, the change and the field (`schema_drift:remove:id`).
VARIANT = "schema_drift:"
# A value that is not a JSON object cannot drift: that copy is the source's own bytes.
NOT_DRIFTED = VARIANT + "not_json"


class SchemaDriftFault(FaultConfig):
    """A JSON object's shape changed, as when an automation's connector is upgraded."""

    type: Literal["schema_drift"] = "schema_drift"
    mode: Mode = "replace"
    change: tuple[Literal["rename", "remove", "retype", "enum", "extra"], ...] = Field(
        default=("rename", "remove", "retype", "enum", "extra"), min_length=1
    )
    # The field to change (a top-level name); absent: one drawn from the object's fields.
    field: str | None = Field(default=None, min_length=1, max_length=MAX_NAME)
    rename_suffix: str = Field(default="_v2", min_length=1, max_length=MAX_NAME)
    enum_value: Name = "UNKNOWN_VALUE"
    extra_field: str = Field(default="unexpected_field", min_length=1, max_length=MAX_NAME)


def _retyped(value: object) -> object:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return [value]
        return int(number) if number.is_integer() else number
    return json.dumps(value)


def drift(
    config: SchemaDriftFault, document: dict[str, object], rng: random.Random
) -> tuple[dict[str, object], str]:
    """The drifted document and a label naming the change and the field."""
    change = config.change[rng.randrange(len(config.change))]
    if change == "extra" or not document:
        drifted = {**document, config.extra_field: rng.randint(0, 1_000_000)}
        return drifted, f"extra:{config.extra_field}"
    field = config.field if config.field in document else None
    if field is None:
        names = sorted(document)
        field = names[rng.randrange(len(names))]
    drifted = dict(document)
    if change == "rename":
        drifted[field + config.rename_suffix] = drifted.pop(field)
    elif change == "remove":
        del drifted[field]
    elif change == "retype":
        drifted[field] = _retyped(drifted[field])
    elif change == "enum":
        drifted[field] = config.enum_value
    return drifted, f"{change}:{field}"


def apply(
    config: SchemaDriftFault, envelope: Envelope, state: None, rng: random.Random, now_ms: int
) -> tuple[tuple[Emission, ...], None]:
    document = Payload(envelope.value).as_object()
    if document is None:
        return (Emission(envelope, 0, now_ms, variant=NOT_DRIFTED),), state
    drifted, label = drift(config, document, rng)
    value = json.dumps(drifted, separators=(",", ":")).encode()
    changed = dataclasses.replace(envelope, value=value, size=0)
    variant = VARIANT + label
    if config.mode == "replace":
        return (Emission(changed, 0, now_ms, variant=variant),), state
    return (Emission(envelope, 0, now_ms), Emission(changed, 1, now_ms, variant=variant)), state


def garbage(variant: str) -> bool:
    """A drifted copy must be refused; an undrifted one is the source's own bytes."""
    return variant.startswith(VARIANT) and variant != NOT_DRIFTED


def explain(told: Told) -> str:
    return f"{told.event} hit by {told.by} (schema_drift)"


FAULT = Injector(
    config=SchemaDriftFault,
    initial_state=no_state,
    apply=apply,
    explain=explain,
    garbage=garbage,
    ledgered=(VARIANT + "remove:status",),
)
