"""What a delivery mode is to the route loop: the one protocol both modes implement.

The route loop (`streams.interposer.RouteInterposer`) reads, decides, paces, rebalances and
honours the kill switch once, for both modes. What differs is what happens to a decided
message: at-least-once (`streams.at_least_once`) sends its copies, ledgers them and commits
the source offset once everything is acknowledged; exactly-once
(`streams.exactly_once.delivery`) runs one transaction per input partition per turn and parks
held copies in Kafka. Both see the route through one `RouteContext`.

A turn is: `open_turn`, an `accept` per decided message and a `release` of what the fault
plan let out, then `close_turn` (the I/O). The loop holds the route's lock around a turn and
around `assigned`, `revoked` and `drain`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Protocol

from aiokafka import TopicPartition

from chaosbus.contracts.clock import Clock, wall_clock_ms
from chaosbus.contracts.routes import Route
from chaosbus.injectors.envelope import Emission, Envelope
from chaosbus.streams.action_log import ActionLog
from chaosbus.streams.config import InterposerConfig
from chaosbus.streams.decider import DecisionLike
from chaosbus.streams.telemetry import Telemetry
from chaosbus.streams.transport import Consumer
from chaosbus.streams.undeliverable import RouteFailed, record_bytes, too_large

# Trace context added to outgoing headers when tracing is on, counted in the size check.
TRACE_HEADER_BYTES = 160


@dataclass
class RouteContext:
    """What the loop and its delivery share about one route."""

    route: Route
    config: InterposerConfig
    # Both topics have as many partitions: a copy keeps its source partition number.
    keep_partition: bool
    clock: Clock = wall_clock_ms
    telemetry: Telemetry = field(default_factory=Telemetry.disabled)
    # The destination topic's max.message.bytes, when known.
    max_message_bytes: int | None = None
    counts: Counter[str] = field(default_factory=Counter)
    # The route's action records (JSON logs); identifiers hashed with the ledger's salt.
    actions: ActionLog = field(init=False)

    def __post_init__(self) -> None:
        self.actions = ActionLog(self.route.name, self.config.identifier_salt)

    @property
    def size_limit(self) -> int:
        """The largest record the destination takes: its topic limit and the producer's."""
        request = self.config.max_request_size
        return min(self.max_message_bytes or request, request)

    def too_large(self, envelope: Envelope) -> str | None:
        """Why the destination would refuse this record for its size, or None.

        The cheap estimate first: only a large record pays for counting its headers (and
        the trace context tracing would add)."""
        limit = self.size_limit
        slack = TRACE_HEADER_BYTES if self.telemetry.enabled else 0
        if envelope.size + slack <= limit // 2:
            return None
        size = record_bytes(envelope) + slack
        return too_large(size, limit) if size > limit else None


class Delivery(Protocol):
    """How decided messages reach the destination, the ledger and the commit point."""

    @property
    def failure(self) -> RouteFailed | None:
        """Set once the destination refused something the route cannot get past."""

    @property
    def held(self) -> int:
        """Copies held by faults outside the fault plan (queued or parked)."""

    @property
    def held_bytes(self) -> int:
        """Bytes of every copy read and not done: held, unacknowledged, waiting to be resent."""

    @property
    def in_flight(self) -> int:
        """Source messages read and not done (not all copies out, acknowledged and ledgered)."""

    def running(self, consumer: Consumer) -> AbstractAsyncContextManager[None]:
        """The delivery's own clients, open while the loop runs (entered before the consumer
        starts, left after it stops)."""

    def readable(self, tp: TopicPartition) -> bool:
        """Whether records of `tp` may be decided now (exactly-once: its parked set is known)."""

    def next_release_ms(self) -> int | None:
        """When the next held copy is due; 0 when there is work to do at once."""

    def open_turn(self, now_ms: int, *, release_all: bool) -> None:
        """A turn starts: `release_all` (a stop, the kill switch) lets every held copy out."""

    def accept(
        self, envelope: Envelope, decision: DecisionLike, *, event_id: str, trace_id: str | None
    ) -> None:
        """One decided message (its decision was counted by the loop)."""

    def release(self, emissions: Sequence[Emission]) -> None:
        """Copies the fault plan let out this turn."""

    async def close_turn(self) -> None:
        """Send what is due, write the ledger, commit."""

    async def drain(self) -> None:
        """On stop: everything held out, acknowledged and committed (within the drain
        timeout); after a failure, settle what was sent before it and raise it."""

    async def assigned(self, partitions: set[TopicPartition]) -> None: ...

    async def revoked(self, partitions: set[TopicPartition]) -> None:
        """Hand the partitions over with nothing of theirs held or uncommitted here."""
