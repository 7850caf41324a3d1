"""Value types of a collected history: what the source said and what downstream showed.

Three streams of facts feed every checker, batch or live:

- `SourceEvent`: one source message as the extractors read it (the source of truth).
- `Effect`: one downstream effect that names the event that caused it (an effects topic, a
  webhook log, anything that carries the event id). The `once` model is built on these;
  the other models use them as ordering and duplication evidence when they exist.
- `Observation`: a snapshot of one entity's downstream state at one moment (a Redis key, an
  HTTP resource). What `value` means depends on the model:

  | model     | `value`                                   | `None` means          |
  | --------- | ----------------------------------------- | --------------------- |
  | `entity`  | the version the service holds             | the entity is absent  |
  | `counter` | the number the service holds              | absent, read as 0     |

The ledger is consumed as `contracts.ledger_record.LedgerRecord` directly: it is a contract.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from chaosbus.contracts.ledger_record import LedgerRecord
from chaosbus.monitors.consumed import Consumed

# Versions and amounts are compared numerically; strings of digits are converted at
# extraction so that "10" ranks above "9".
Number = int | float

# (topic, partition, offset). A plain tuple rather than a dataclass: it keys dicts of a
# million entries, and tuple hashing is done in C.
Coordinates = tuple[str, int, int]


def coordinates_id(coords: Coordinates) -> str:
    """The event id used when none is declared: `topic:partition:offset`."""
    return f"{coords[0]}:{coords[1]}:{coords[2]}"


@dataclass(frozen=True, slots=True)
class SourceEvent:
    """One delivery of a source message, reduced to what the models need.

    `version` is `None` only for a delete that carries no version (a Kafka tombstone whose
    version lived in the payload): such a delete outranks everything before it in source
    order. `amount` is `None` when no counter field is declared, and for tombstones.
    """

    coords: Coordinates
    event_id: str
    entity: str
    version: Number | None
    is_delete: bool
    amount: Number | None
    timestamp_ms: int


@dataclass(frozen=True, slots=True)
class Effect:
    """One downstream effect, attributed to a source event by its id."""

    event_id: str
    observed_at_ms: int
    entity: str | None = None
    value: Number | str | None = None


@dataclass(frozen=True, slots=True)
class Observation:
    """Downstream state of one entity at one moment; see the module table for `value`."""

    entity: str
    observed_at_ms: int
    value: Number | None


@dataclass(frozen=True, slots=True)
class History:
    """Everything collected for one check. Sources are in source order per partition."""

    sources: Sequence[SourceEvent]
    ledger: Sequence[LedgerRecord] = ()
    effects: Sequence[Effect] = ()
    observations: Sequence[Observation] = field(default=())
    # When the service was seen to have consumed each copy (with `monitor.service_group`):
    # a unit settles no earlier than that. None: due is when the copy was sent.
    consumed: Consumed | None = None
