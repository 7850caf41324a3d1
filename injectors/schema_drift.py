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

from chaosbus.injectors.envelope import Emission, Envelope
from chaosbus.injectors.match import Payload
from chaosbus.injectors.spec import SchemaDriftFault


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
        return (Emission(envelope, 0, now_ms, variant="schema_drift:not_json"),), state
    drifted, label = drift(config, document, rng)
    value = json.dumps(drifted, separators=(",", ":")).encode()
    changed = dataclasses.replace(envelope, value=value, size=0)
    variant = f"schema_drift:{label}"
    if config.mode == "replace":
        return (Emission(changed, 0, now_ms, variant=variant),), state
    return (Emission(envelope, 0, now_ms), Emission(changed, 1, now_ms, variant=variant)), state
