"""The automation's own losses: what it accepted against what it published.

With `chaosbus http` in front of an automation's webhook, the request log is the truth
upstream of the source topic: which events the automation answered 2xx, and when. The
source topic says which it published, where. Two anomalies follow:

* `unpublished_event` — accepted and never on the topic: the automation said yes before its
  publish was confirmed (n8n answering on receipt while its Kafka node sends with acks=0,
  then a broker restart). One finding per event id.
* `automation_reordered` — one record's events published in another order than they were
  accepted. Only a clear order counts: the earlier event was *answered* before the later
  one even *arrived* (calls in flight together had no order to keep). One finding per
  record, naming the first inverted pair.

The join is by event id, so the webhook calls must name it: the proxy's logical request id
is the `id_header` value (`Idempotency-Key: <event id>`); a request id that is a hash of
the body (`sha256:…`, no such header) cannot be joined and is counted as `unjoinable`.
Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from chaosbus.injectors.http.log_record import LoggedRequest
from chaosbus.monitors.anomalies import (
    AUTOMATION_ANOMALIES,
    AUTOMATION_REORDERED,
    UNPUBLISHED_EVENT,
)
from chaosbus.monitors.history import SourceEvent

HASHED_ID = "sha256:"
ACCEPTED = "the automation answered before its publish was confirmed, and the publish never landed"


@dataclass(frozen=True, slots=True)
class Acceptance:
    """The first attempt of one event the automation answered with a 2xx."""

    event_id: str
    arrived_at_ms: int
    answered_at_ms: int
    status: int
    sequence: int


@dataclass(frozen=True, slots=True)
class HandoffFinding:
    anomaly: str
    unit: str  # the event id (unpublished) or the record (reordered)
    event_ids: tuple[str, ...]
    detail: str
    cause: str


@dataclass(frozen=True, slots=True)
class HandoffVerdict:
    accepted: int  # events the automation answered 2xx
    published: int  # of those, found on the source topic
    unjoinable: int  # accepted requests whose id is a body hash, not an event id
    findings: tuple[HandoffFinding, ...]
    window: tuple[int, int] | None  # first and last acceptance of an unpublished event

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(AUTOMATION_ANOMALIES, 0)
        for finding in self.findings:
            out[finding.anomaly] += 1
        return out


def acceptances(requests: Iterable[LoggedRequest]) -> tuple[dict[str, Acceptance], int]:
    """Per event id the first attempt answered 2xx; and how many ids were body hashes."""
    first: dict[str, Acceptance] = {}
    hashed: set[str] = set()
    for r in sorted(requests, key=lambda r: (r.arrived_at_ms, r.sequence)):
        if r.upstream_status is None or not 200 <= r.upstream_status < 300:
            continue
        if r.request_id.startswith(HASHED_ID):
            hashed.add(r.request_id)
            continue
        if r.request_id not in first:
            first[r.request_id] = Acceptance(
                r.request_id,
                r.arrived_at_ms,
                r.arrived_at_ms + r.took_ms,
                r.upstream_status,
                r.sequence,
            )
    return first, len(hashed)


def judge_handoff(
    requests: Sequence[LoggedRequest],
    published: Sequence[SourceEvent],
    *,
    topic: str,
    cause: str = ACCEPTED,
) -> HandoffVerdict:
    accepted, unjoinable = acceptances(requests)
    on_topic = {event.event_id for event in published}
    findings: list[HandoffFinding] = []
    start = min((a.arrived_at_ms for a in accepted.values()), default=0)
    lost = sorted(
        (a for a in accepted.values() if a.event_id not in on_topic), key=lambda a: a.arrived_at_ms
    )
    for a in lost:
        findings.append(
            HandoffFinding(
                UNPUBLISHED_EVENT,
                a.event_id,
                (a.event_id,),
                f"accepted ({a.status}) at +{(a.arrived_at_ms - start) / 1000:.3f} s, "
                f"never on {topic}",
                cause,
            )
        )
    findings += reorderings(accepted, published)
    window = (lost[0].arrived_at_ms, lost[-1].arrived_at_ms) if lost else None
    return HandoffVerdict(
        accepted=len(accepted),
        published=len(accepted) - len(lost),
        unjoinable=unjoinable,
        findings=tuple(findings),
        window=window,
    )


def reorderings(
    accepted: dict[str, Acceptance], published: Sequence[SourceEvent]
) -> list[HandoffFinding]:
    """Per record, the first pair published against the order it was clearly accepted in."""
    by_entity: dict[str, list[SourceEvent]] = defaultdict(list)
    for event in published:
        if event.event_id in accepted:
            by_entity[event.entity].append(event)
    found: list[HandoffFinding] = []
    for entity, events in sorted(by_entity.items()):
        if len({e.coords[0:2] for e in events}) != 1:
            continue  # spread over partitions: the topic keeps no order between them
        events.sort(key=lambda e: e.coords[2])
        pair = _first_inversion(events, accepted)
        if pair is None:
            continue
        early, late = pair  # `early` was accepted first and published after `late`
        found.append(
            HandoffFinding(
                AUTOMATION_REORDERED,
                entity,
                (early.event_id, late.event_id),
                f"v{early.version} answered before v{late.version} arrived, published after it "
                f"(offsets {early.coords[2]} > {late.coords[2]})",
                "runs of the automation overlapped and the later one published first",
            )
        )
    return found


def _first_inversion(
    events: Sequence[SourceEvent], accepted: dict[str, Acceptance]
) -> tuple[SourceEvent, SourceEvent] | None:
    for i, late in enumerate(events):
        for early in events[i + 1 :]:
            if accepted[early.event_id].answered_at_ms <= accepted[late.event_id].arrived_at_ms:
                return early, late
    return None
