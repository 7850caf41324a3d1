"""How the two demo services change Redis for one order event: naively, and safely.

Keys, all under the service's prefix (`naive:` / `safe:` by default, so both services can
share one Redis):

| key                          | type   | holds                                               |
| ---------------------------- | ------ | --------------------------------------------------- |
| `{p}order:{order_id}`        | hash   | the order's fields (`version`, `status`, `total`…)  |
| `{p}customer:{customer}:paid`| string | the sum of the customer's payments, in cents        |
| `{p}seen:{event_id}`         | string | safe only: the event was applied (deduplication)    |
| `{p}effects`                 | stream | one entry per effect: event_id, order_id, type,     |
|                              |        | version, outcome, at_ms (evidence for the monitors) |

A deleted order: the naive ledger removes its hash; the safe ledger keeps a tombstone hash
`{deleted: "1", version: N, event_id: …}`, which a probe must read as absent.

The safe ledger does everything for one event in one Lua script, so a duplicate delivered
concurrently to another replica cannot slip between the check and the write. Its keys do
not share a hash slot: it needs a single Redis (or a cluster with the keys tagged alike).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from redis.asyncio import Redis
from redis.typing import EncodableT, FieldT

from chaosbus_demo.events import OrderEvent

Outcome = Literal["applied", "deleted", "duplicate", "stale", "counted"]
OUTCOMES: tuple[Outcome, ...] = ("applied", "deleted", "duplicate", "stale", "counted")
EFFECTS_MAXLEN = 100_000


@dataclass(frozen=True)
class Keys:
    prefix: str

    def order(self, order_id: str) -> str:
        return f"{self.prefix}order:{order_id}"

    def paid(self, customer: str) -> str:
        return f"{self.prefix}customer:{customer}:paid"

    def seen(self, event_id: str) -> str:
        return f"{self.prefix}seen:{event_id}"

    @property
    def effects(self) -> str:
        return f"{self.prefix}effects"


class Ledger(Protocol):
    async def apply(self, event: OrderEvent) -> Outcome: ...

    # What the service's HTTP view shows (chaosbus_demo.state_http).
    async def order_version(self, order_id: str) -> int | None: ...
    async def paid(self, customer: str) -> int | None: ...
    async def effect_ids(self) -> list[str]: ...


class _RedisReads:
    redis: Redis
    keys: Keys

    async def order_version(self, order_id: str) -> int | None:
        """The order's version, None when absent or a tombstone."""
        version, deleted = await self.redis.hmget(self.keys.order(order_id), ["version", "deleted"])
        if version is None or deleted == b"1":
            return None
        return int(version)

    async def paid(self, customer: str) -> int | None:
        raw = await self.redis.get(self.keys.paid(customer))
        return None if raw is None else int(raw)

    async def effect_ids(self) -> list[str]:
        entries: Any = await self.redis.xrange(self.keys.effects)
        return [bytes(fields[b"event_id"]).decode() for _, fields in entries or ()]


def to_outcome(text: str) -> Outcome:
    for outcome in OUTCOMES:
        if outcome == text:
            return outcome
    raise ValueError(f"unknown ledger outcome {text!r}")


def _effect(event: OrderEvent, outcome: Outcome) -> dict[FieldT, EncodableT]:
    return {
        "event_id": event.event_id,
        "order_id": event.order_id,
        "type": event.type,
        "version": event.version,
        "outcome": outcome,
        "at_ms": int(time.time() * 1000),
    }


class NaiveLedger(_RedisReads):
    """Applies every delivery: the last message received wins, every payment is added."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.keys = Keys(prefix)

    async def apply(self, event: OrderEvent) -> Outcome:
        order_key = self.keys.order(event.order_id)
        outcome: Outcome = "deleted" if event.is_delete else "applied"
        async with self.redis.pipeline(transaction=True) as pipe:
            if event.amount is not None:
                pipe.incrby(self.keys.paid(event.customer), event.amount)
            pipe.delete(order_key)
            if not event.is_delete:
                pipe.hset(order_key, mapping=event.state_fields())  # type: ignore[arg-type]
            pipe.xadd(
                self.keys.effects, _effect(event, outcome), maxlen=EFFECTS_MAXLEN, approximate=True
            )
            await pipe.execute()
        return outcome


# KEYS: seen, order, paid, effects
# ARGV: event_id, order_id, type, version, is_delete, amount ('' when none),
#       seen_ttl_ms ('0': forever), at_ms, effects maxlen, then the order's field/value pairs.
# A state ranks by (version, deleted): a delete outranks the same version, and only a
# strictly newer version replaces a tombstone - the monitors' entity model, kept in Redis.
_SAFE_APPLY = """
local ttl = tonumber(ARGV[7])
local fresh
if ttl > 0 then
  fresh = redis.call('SET', KEYS[1], '1', 'NX', 'PX', ttl)
else
  fresh = redis.call('SET', KEYS[1], '1', 'NX')
end
if not fresh then
  return 'duplicate'
end
local version = tonumber(ARGV[4])
local is_delete = ARGV[5] == '1'
if ARGV[6] ~= '' then
  redis.call('INCRBY', KEYS[3], ARGV[6])
end
local current = redis.call('HMGET', KEYS[2], 'version', 'deleted')
local newer = true
if current[1] then
  local held = tonumber(current[1])
  local held_deleted = current[2] == '1'
  newer = version > held or (version == held and is_delete and not held_deleted)
end
local outcome
if not newer then
  if ARGV[6] ~= '' then outcome = 'counted' else outcome = 'stale' end
else
  redis.call('DEL', KEYS[2])
  if is_delete then
    redis.call('HSET', KEYS[2], 'deleted', '1', 'version', ARGV[4], 'event_id', ARGV[1])
    outcome = 'deleted'
  else
    redis.call('HSET', KEYS[2], unpack(ARGV, 10))
    outcome = 'applied'
  end
end
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[9], '*',
  'event_id', ARGV[1], 'order_id', ARGV[2], 'type', ARGV[3], 'version', ARGV[4],
  'outcome', outcome, 'at_ms', ARGV[8])
return outcome
"""


class SafeLedger(_RedisReads):
    """Applies each event id once, only newer versions, and keeps tombstones for deletes.

    A payment is added exactly once even when its order state is stale (payments commute);
    the outcome is then `counted` rather than `stale`.
    """

    def __init__(self, redis: Redis, prefix: str, *, seen_ttl_s: float | None = None) -> None:
        self.redis = redis
        self.keys = Keys(prefix)
        self._seen_ttl_ms = 0 if seen_ttl_s is None else max(1, int(seen_ttl_s * 1000))
        self._script = redis.register_script(_SAFE_APPLY)

    async def apply(self, event: OrderEvent) -> Outcome:
        fields = [item for pair in event.state_fields().items() for item in pair]
        keys = [
            self.keys.seen(event.event_id),
            self.keys.order(event.order_id),
            self.keys.paid(event.customer),
            self.keys.effects,
        ]
        args = [
            event.event_id,
            event.order_id,
            event.type,
            str(event.version),
            "1" if event.is_delete else "0",
            "" if event.amount is None else str(event.amount),
            str(self._seen_ttl_ms),
            str(int(time.time() * 1000)),
            str(EFFECTS_MAXLEN),
            *fields,
        ]
        result = await self._script(keys=keys, args=args)
        return to_outcome(result.decode() if isinstance(result, bytes) else str(result))
