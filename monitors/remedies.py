"""What to change, per anomaly: written for the people who build the flows.

One entry per anomaly name (`anomalies.py`, `retries.py`, `handoff.py`): what happened, in
plain words; what to change in the service; and what to change in the automation, per
platform where its profile says how (keys are the platform names of `chaosbus.platforms`,
`any` for every other sender). The report carries the entries of the anomalies it found
(`RunReport.remedies`); a test pins that every anomaly name has one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType

from chaosbus.monitors.anomalies import (
    APPLIED_GARBAGE,
    AUTOMATION_REORDERED,
    DIVERGENT_ENTITY,
    DUPLICATE_EFFECT,
    LOST_EVENT,
    RESURRECTED,
    STALE_OVERWRITE,
    STALLED_CONSUMER,
    UNPUBLISHED_EVENT,
    UNRECOVERED,
)
from chaosbus.monitors.retries import (
    NO_BACKOFF,
    RETRY_DUPLICATE_EFFECT,
    RETRY_STORM,
    UNBOUNDED_RETRIES,
)


@dataclass(frozen=True)
class Remedy:
    explanation: str
    service: tuple[str, ...]
    automation: dict[str, str] = field(default_factory=dict)  # platform (or `any`) → advice

    def for_platform(self, platform: str | None) -> str | None:
        if platform is not None and platform in self.automation:
            return self.automation[platform]
        return self.automation.get("any")


_IDEMPOTENCY_HEADER = {
    "n8n": "In the HTTP Request node add a header Idempotency-Key = the event's id "
    "({{ $json.event_id }}), so every retry carries the same key.",
    "zapier": "In Webhooks by Zapier add a header Idempotency-Key with the trigger's event id; "
    "Autoreplay then resends the same key hours later.",
    "make": "In the HTTP module add a header Idempotency-Key mapped from the bundle's event id; "
    "retried incomplete executions resend it.",
    "power-automate": "Add a header Idempotency-Key from the trigger's event id to the HTTP "
    "action; its retry policy resends the same request.",
    "node-red": "Set msg.headers['Idempotency-Key'] from the event id before the http request "
    "node.",
    "webhook": "Keep the webhook-id stable across retries and tell receivers to deduplicate on it.",
    "any": "Send a stable event id with every delivery (an Idempotency-Key header or a field).",
}

REMEDIES = MappingProxyType(
    {
        DUPLICATE_EFFECT: Remedy(
            "The same event was applied more than once: a retry, a replay or a duplicate "
            "delivery was treated as new.",
            (
                "Record each event id you applied, in the same transaction as the effect, and "
                "skip ids you have seen (an idempotency key).",
                "Remember ids at least as long as the latest your senders redeliver (see "
                "`chaosbus horizon`).",
            ),
            _IDEMPOTENCY_HEADER,
        ),
        STALE_OVERWRITE: Remedy(
            "An older version of a record was applied after a newer one: the events arrived "
            "out of order and the last one received won.",
            (
                "Apply an update only when its version is newer than the stored one (a "
                "version guard, compare-and-set).",
            ),
            {
                "n8n": "Send the record's version with every event; do not rely on execution "
                "order (executions run in parallel), or set N8N_CONCURRENCY_PRODUCTION_LIMIT=1.",
                "zapier": "Send the record's version or updated-at; replays arrive hours after "
                "newer runs.",
                "make": "Enable sequential processing in the scenario settings, and send a "
                "version.",
                "power-automate": "Set the trigger's concurrency control to 1 where order "
                "matters, and send a version.",
                "node-red": "Send a version; asynchronous nodes may reorder messages.",
                "any": "Send a version or timestamp of the record with every event.",
            },
        ),
        RESURRECTED: Remedy(
            "A record deleted at the source came back: a late or repeated update was applied "
            "after the delete.",
            (
                "Keep a tombstone (deleted, with its version) instead of removing the record, "
                "and refuse older updates against it.",
            ),
            {"any": "Send deletes as events with a version, not as a missing record."},
        ),
        APPLIED_GARBAGE: Remedy(
            "The service applied a damaged or changed copy of an event instead of refusing it.",
            (
                "Validate every event against its schema; send what fails to a dead-letter "
                "topic instead of applying or blocking on it.",
            ),
            {
                "any": "Pin the connector's version and map fields explicitly; test a flow "
                "after a connector upgrade.",
            },
        ),
        LOST_EVENT: Remedy(
            "An event that was delivered never took effect.",
            (
                "Commit the consumer's offset only after the effect is stored; send what cannot "
                "be applied to a dead-letter topic, never drop it silently.",
            ),
            {
                "node-red": "Report errors with node.error(err, msg) so a Catch node sees them, "
                "and add a Complete node to confirm each message finished.",
                "any": "Give the flow an error path that retries or parks the event.",
            },
        ),
        DIVERGENT_ENTITY: Remedy(
            "After settling, a record differs from what the source says, for no cause the "
            "monitors could name.",
            ("Compare the service's write path with the source's events for this record.",),
            {"any": "Check the flow's field mapping for this record's events."},
        ),
        UNRECOVERED: Remedy(
            "A record was still wrong when the recovery window ended: the service did not "
            "repair itself.",
            (
                "Add reconciliation: re-read the source of truth for records touched during a "
                "fault, or rebuild them from the topic.",
            ),
            {"any": "Replay the affected events once the service is fixed."},
        ),
        STALLED_CONSUMER: Remedy(
            "The service's consumer stopped moving on a partition while messages waited: one "
            "message blocked everything behind it.",
            (
                "Time-box the handling of one message; after a bounded number of failures send "
                "it to a dead-letter topic and move on.",
            ),
            {"any": "Expect delays: the flow's events wait behind the blocked one."},
        ),
        UNBOUNDED_RETRIES: Remedy(
            "The automation retried one request more times than allowed: a loop without a bound.",
            ("Answer 4xx for requests that cannot succeed, so callers stop retrying them.",),
            {
                "n8n": "Use Retry On Fail (at most 5 tries) instead of a loop back to the node.",
                "node-red": "Count attempts in msg (e.g. msg.attempt) and stop after a bound.",
                "make": "Give the Break handler a number of attempts.",
                "power-automate": "Set the retry policy's count instead of a Do until loop.",
                "any": "Bound the number of attempts.",
            },
        ),
        NO_BACKOFF: Remedy(
            "The automation retried at a fixed pace: a struggling service gets no time to recover.",
            ("Send Retry-After with 429 and 503 answers.",),
            {
                "n8n": "Retry On Fail waits a fixed time (at most 5 s): set the longest wait, or "
                "build backoff with a Wait node whose time doubles per attempt.",
                "power-automate": "Use the Exponential interval retry policy.",
                "node-red": "Double the delay node's time per attempt (msg.delay).",
                "make": "Incomplete executions already back off; do not add a fixed loop.",
                "any": "Double the wait between attempts, with some random jitter.",
            },
        ),
        RETRY_STORM: Remedy(
            "Retries piled up while the service was failing, adding load when it could least "
            "take it.",
            ("Shed load early (429 with Retry-After) and protect the service with a rate limit.",),
            {
                "n8n": "Limit concurrent executions (N8N_CONCURRENCY_PRODUCTION_LIMIT) and "
                "lengthen Wait Between Tries.",
                "any": "Back off exponentially and cap the number of runs in flight.",
            },
        ),
        RETRY_DUPLICATE_EFFECT: Remedy(
            "The service accepted one logical request more than once: a retry after a lost "
            "answer was applied again.",
            ("Deduplicate requests by their Idempotency-Key header and return the first answer.",),
            _IDEMPOTENCY_HEADER,
        ),
        UNPUBLISHED_EVENT: Remedy(
            "The automation said it accepted the event (HTTP 2xx) but never published it: the "
            "event is lost before the bus.",
            (
                "Reconcile: compare what callers were told was accepted with what the topic "
                "holds, and ask the caller to resend the missing ids.",
            ),
            {
                "n8n": "Answer the webhook after the Kafka node (Respond: When Last Node "
                "Finishes, or a Respond to Webhook node) and switch on the Kafka node's "
                "Acks option, so a failed send is a failed call the caller retries.",
                "node-red": "Send the HTTP response only after the Kafka send resolved, with "
                "acks: -1, and answer 5xx when it failed.",
                "any": "Acknowledge a call only after the event is durably published.",
            },
        ),
        AUTOMATION_REORDERED: Remedy(
            "The automation published events of one record in another order than it accepted them.",
            (
                "Apply an update only when its version is newer (a version guard); do not "
                "trust the topic's order for one record.",
            ),
            {
                "n8n": "Executions run in parallel, each with its own producer: set "
                "N8N_CONCURRENCY_PRODUCTION_LIMIT=1 where order matters, and send a version.",
                "any": "Publish one record's events from one sequential path, with a version.",
            },
        ),
    }
)


def remedy(anomaly: str) -> Remedy | None:
    return REMEDIES.get(anomaly)
