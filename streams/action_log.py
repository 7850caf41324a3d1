"""What a route does, as log records: one per action, fields in `extra`, for JSON logs.

Logger `chaosbus.actions`. Every record carries `action` and `route`, and what the action
is about; with `--log-format json` (`chaosbus.logs`) each becomes one JSON object, with the
text format only its message. The actions of a route:

    decide   a source message decided: fault type and name, partition, offset, key, event
             id, payload_bytes, copies, trace_id (and the reason of a pass that could
             have been a fault: a cap, a pause, the kill switch)
    emit     a copy the destination acknowledged: copy, planned_delay_ms, timing_ms (from
             the decision to the acknowledgement), where it landed, trace_id
    commit   source offsets committed: offsets, timing_ms
    release  held copies let out at once (kill switch, pause, stop, rebalance): copies, cause
    refuse   a copy the destination refused: reason, dead_letter

The control plane logs `kill`, `pause` and `resume` on the same logger. Levels: a decision
that injected, a copy a fault made or delayed, a release and a refusal are INFO; passes,
plain forwards and commits (every message, every 100 ms) are DEBUG. Every message is checked
with `isEnabledFor` first, so a level that hides them costs one comparison.

Identifiers are those the ledger writes: with a salt (`privacy: hashed`) the key and the
event id are the run's pseudonyms (`streams.ledger.pseudonym`), never in clear; values and
headers are never logged, only the value's size (`payload_bytes`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence

from chaosbus.injectors.envelope import Emission, Envelope
from chaosbus.streams.decider import DecisionLike
from chaosbus.streams.ledger import pseudonym

log = logging.getLogger("chaosbus.actions")

MAX_IDENTIFIER_CHARS = 200


class ActionLog:
    """The action records of one route."""

    def __init__(self, route: str, salt: bytes | None = None) -> None:
        self.route = route
        self._salt = salt

    @property
    def logs_decisions(self) -> bool:
        """Whether any decision would be logged now (the loop asks once a turn)."""
        return log.isEnabledFor(logging.INFO)

    def identifier(self, value: bytes | None) -> str | None:
        """A key or event id as the log shows it: the run's pseudonym when hashed."""
        if value is None:
            return None
        if self._salt is not None:
            return pseudonym(self._salt, value)
        return value.decode("utf-8", "replace")[:MAX_IDENTIFIER_CHARS]

    def decided(
        self, envelope: Envelope, decision: DecisionLike, event_id: str, trace_id: str | None
    ) -> None:
        level = logging.DEBUG if decision.fault == "pass" else logging.INFO
        if not log.isEnabledFor(level):
            return
        source = envelope.source
        copies = len(decision.emissions) + decision.held
        name = f" ({decision.fault_name})" if decision.fault_name else ""
        log.log(
            level,
            "%s: %s%s at %s/%d@%d, %d copies",
            self.route,
            decision.fault,
            name,
            source.topic,
            source.partition,
            source.offset,
            copies,
            extra={
                "action": "decide",
                "route": self.route,
                "fault": decision.fault,
                "fault_name": decision.fault_name,
                "reason": decision.reason,
                "topic": source.topic,
                "partition": source.partition,
                "offset": source.offset,
                "key": self.identifier(envelope.key),
                "event_id": self.identifier(event_id.encode("utf-8")),
                "payload_bytes": len(envelope.value or b""),
                "copies": copies,
                "trace_id": trace_id,
            },
        )

    def emitted(
        self,
        emission: Emission,
        *,
        now_ms: int,
        partition: int | None,
        offset: int | None,
        trace_id: str | None = None,
    ) -> None:
        # A copy a fault made or delayed is news; the plain forward of a pass is not.
        level = logging.INFO if emission.copy or emission.planned_delay_ms else logging.DEBUG
        if not log.isEnabledFor(level):
            return
        source = emission.envelope.source
        decided_ms = emission.release_at_ms - emission.planned_delay_ms
        log.log(
            level,
            "%s: copy %d of %s/%d@%d sent (planned delay %d ms)",
            self.route,
            emission.copy,
            source.topic,
            source.partition,
            source.offset,
            emission.planned_delay_ms,
            extra={
                "action": "emit",
                "route": self.route,
                "topic": source.topic,
                "partition": source.partition,
                "offset": source.offset,
                "copy": emission.copy,
                "variant": emission.variant,
                "planned_delay_ms": emission.planned_delay_ms,
                "timing_ms": max(0, now_ms - decided_ms),
                "payload_bytes": len(emission.envelope.value or b""),
                "destination_partition": partition,
                "destination_offset": offset,
                "key": self.identifier(emission.envelope.key),
                "trace_id": trace_id,
            },
        )

    def emitted_all(
        self, emissions: Sequence[Emission], *, now_ms: int, partition: int, base: int
    ) -> None:
        """`emitted` for a producer batch (the i-th copy landed at `base + i`): the level
        asked once for the batch, so a batch of plain forwards costs one comparison."""
        if log.isEnabledFor(logging.DEBUG):
            chosen: Iterable[tuple[int, Emission]] = enumerate(emissions, base)
        elif log.isEnabledFor(logging.INFO):
            chosen = (
                (offset, emission)
                for offset, emission in enumerate(emissions, base)
                if emission.copy or emission.planned_delay_ms
            )
        else:
            return
        for offset, emission in chosen:
            self.emitted(emission, now_ms=now_ms, partition=partition, offset=offset)

    def committed(self, offsets: Mapping[tuple[str, int], int], took_ms: float) -> None:
        if not log.isEnabledFor(logging.DEBUG):
            return
        shown = {f"{topic}/{partition}": offset for (topic, partition), offset in offsets.items()}
        log.debug(
            "%s: committed %s",
            self.route,
            shown,
            extra={
                "action": "commit",
                "route": self.route,
                "offsets": shown,
                "timing_ms": round(took_ms, 3),
            },
        )

    def released(self, copies: int, cause: str) -> None:
        if copies and log.isEnabledFor(logging.INFO):
            log.info(
                "%s: released %d held copies (%s)",
                self.route,
                copies,
                cause,
                extra={"action": "release", "route": self.route, "copies": copies, "cause": cause},
            )

    def refused(self, envelope: Envelope, reason: str, dead_letter: str | None) -> None:
        source = envelope.source
        log.info(
            "%s: the destination refused %s/%d@%d: %s",
            self.route,
            source.topic,
            source.partition,
            source.offset,
            reason,
            extra={
                "action": "refuse",
                "route": self.route,
                "topic": source.topic,
                "partition": source.partition,
                "offset": source.offset,
                "reason": reason,
                "dead_letter": dead_letter,
                "payload_bytes": len(envelope.value or b""),
                "key": self.identifier(envelope.key),
            },
        )
