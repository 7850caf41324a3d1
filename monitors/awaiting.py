"""Copies the service has not consumed yet, during a run (see `AwaitingConsumption`)."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator

from chaosbus.contracts.ledger_record import LedgerRecord
from chaosbus.monitors.consumed import Consumed
from chaosbus.monitors.history import Coordinates
from chaosbus.monitors.lag import LagSample


class AwaitingConsumption:
    """The live side: copies sent on `consumed.route` that the service group has not yet
    been seen to commit, per source delivery.

    During a run a unit whose copy still waits in the service's queue cannot be judged as
    state: a correct service that lags would show an older state and the live checker
    (guardrails, the recovery series) would count a `stale_overwrite` that is not there.
    Such a unit is pending until the group commits past its copies; then it settles from
    that instant, as in the batch verdict (where a copy never consumed leaves its unit
    pending too; the lag reports a stall).
    """

    def __init__(self, consumed: Consumed) -> None:
        self._consumed = consumed
        self._copies: dict[Coordinates, set[tuple[int, int]]] = {}
        # Per destination partition, the waiting copies by offset: a sample pops the ones
        # it commits past, so each copy is looked at once more, not on every sample.
        self._by_partition: dict[int, list[tuple[int, Coordinates]]] = {}

    def track(self, record: LedgerRecord) -> None:
        """Note the record's copies the group has not committed yet (a later record for the
        same delivery supersedes the earlier one)."""
        coords = (record.topic, record.partition, record.offset)
        self._copies.pop(coords, None)
        if record.route != self._consumed.route:
            return
        waiting = {
            (e.partition, e.offset)
            for e in record.emissions
            if e.partition is not None
            and e.offset is not None
            and self._consumed.consumed_at(e.partition, e.offset) is None
        }
        if not waiting:
            return
        self._copies[coords] = waiting
        for partition, offset in waiting:
            heapq.heappush(self._by_partition.setdefault(partition, []), (offset, coords))

    def consume(self, sample: LagSample) -> Iterator[tuple[Coordinates, int]]:
        """Add `sample`; each delivery with a copy it shows consumed, and when it was."""
        self._consumed.add(sample)
        for partition, heap in self._by_partition.items():
            committed = self._consumed.committed_now(partition)
            while heap and committed is not None and heap[0][0] < committed:
                offset, coords = heapq.heappop(heap)
                copies = self._copies.get(coords)
                if copies is None or (partition, offset) not in copies:
                    continue  # superseded by a later record
                copies.discard((partition, offset))
                if not copies:
                    del self._copies[coords]
                at = self._consumed.consumed_at(partition, offset)
                if at is not None:
                    yield coords, at

    def waiting(self, deliveries: Iterable[Coordinates]) -> bool:
        """Whether any of these deliveries has a copy the service has not consumed."""
        copies = self._copies
        return bool(copies) and any(coords in copies for coords in deliveries)
