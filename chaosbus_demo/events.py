"""The order events of the demo: what the outside world posts and what the services read.

One JSON object per event, the same on the webhook, the source topic and the interposed
topic::

    {"event_id": "3f2c…", "type": "paid", "order_id": "o-00017", "version": 3,
     "customer": "c-04", "status": "paid", "total": 4599, "amount": 4599}

- `type` is `created` (version 1), `updated` (versions 2..n), `paid` (carries `amount`,
  an integer number of cents) or `cancelled` (a delete).
- `version` rises by one with each event of an order, whatever its type.
- The Kafka key is the order id and the `event-id` header repeats the event id.

The safe service reads with `parse_event`, which refuses anything that is not exactly such
an object; the naive one with `read_leniently`, which takes whatever it can get (a corrupted
or drifted copy included), as a tolerant no-code mapping step does.

Monitors read them with: event id `$.event_id`, entity = record key, version `$.version`,
delete `{path: "$.type", equals: "cancelled"}`, amount `$.amount` (counter keyed by
`$.customer`).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from typing import Any, Literal, cast

from chaosbus_demo.errors import DemoError

EventType = Literal["created", "updated", "paid", "cancelled"]
EVENT_TYPES: tuple[EventType, ...] = ("created", "updated", "paid", "cancelled")
EVENT_ID_HEADER = "event-id"
DELETE_TYPE: EventType = "cancelled"


class BadEvent(DemoError, ValueError):
    """A payload that is not an order event; services count and skip it."""


@dataclass(frozen=True, kw_only=True)
class OrderEvent:
    event_id: str
    type: EventType
    order_id: str
    version: int
    customer: str
    status: str
    total: int
    amount: int | None = None

    @property
    def is_delete(self) -> bool:
        return self.type == DELETE_TYPE

    def to_dict(self) -> dict[str, Any]:
        fields = asdict(self)
        if self.amount is None:
            del fields["amount"]
        return fields

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), separators=(",", ":")).encode()

    def state_fields(self) -> dict[str, str]:
        """The order as a Redis hash: every field as a string."""
        return {name: str(value) for name, value in self.to_dict().items()}


def _text(doc: dict[str, Any], name: str) -> str:
    value = doc.get(name)
    if not isinstance(value, str | int) or isinstance(value, bool) or value == "":
        raise BadEvent(f"{name!r} is missing or not a string")
    return str(value)


def _integer(doc: dict[str, Any], name: str, *, default: int | None = None) -> int:
    value = doc.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadEvent(f"{name!r} is missing or not an integer")
    return value


def parse_event(value: bytes | None) -> OrderEvent:
    """Read one record value; raises `BadEvent` for anything that is not an order event."""
    if value is None:
        raise BadEvent("a null value (Kafka tombstone) is not an order event")
    try:
        doc = json.loads(value)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise BadEvent(f"not JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise BadEvent("not a JSON object")
    kind = doc.get("type")
    if kind not in EVENT_TYPES:
        raise BadEvent(f"unknown type {kind!r}")
    amount = doc.get("amount")
    if amount is not None:
        amount = _integer(doc, "amount")
    if kind == "paid" and amount is None:
        raise BadEvent("a paid event carries an integer 'amount'")
    return OrderEvent(
        event_id=_text(doc, "event_id"),
        type=cast(EventType, kind),
        order_id=_text(doc, "order_id"),
        version=_integer(doc, "version"),
        customer=_text(doc, "customer"),
        status=str(doc.get("status", "")),
        total=_integer(doc, "total", default=0),
        amount=amount,
    )


def read_leniently(value: bytes | None) -> OrderEvent:
    """The naive reading: undecodable bytes become U+FFFD, an unknown type is an update, a
    missing or unreadable number is 0 (a payment's amount: absent), any field is taken as
    text. Raises `BadEvent` only when there is no JSON object at all."""
    if value is None:
        raise BadEvent("a null value (Kafka tombstone) is not an order event")
    try:
        doc = json.loads(value.decode("utf-8", errors="replace"))
    except (json.JSONDecodeError, RecursionError) as exc:
        raise BadEvent(f"not JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise BadEvent("not a JSON object")
    kind = doc.get("type")
    amount = _loose_number(doc.get("amount"))
    return OrderEvent(
        event_id=str(doc.get("event_id", "")),
        type=cast(EventType, kind) if kind in EVENT_TYPES else "updated",
        order_id=str(doc.get("order_id", "")),
        version=_loose_number(doc.get("version")) or 0,
        customer=str(doc.get("customer", "")),
        status=str(doc.get("status", "")),
        total=_loose_number(doc.get("total")) or 0,
        amount=amount,
    )


def _loose_number(value: object) -> int | None:
    """A number however it is spelled ("4599", 4599.0), or None."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return int(number) if math.isfinite(number) else None
