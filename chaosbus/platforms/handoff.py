"""`chaosbus handoff`: the automation's own losses, from its webhook's request log and the topic.

    request log (chaosbus http in front of the automation's webhook, id header = event id)
        + the source topic, read from its start to its end now
        → monitors.handoff: unpublished_event, automation_reordered, each with its cause

With `--platform`, the cause of an unpublished event is that platform's documented (or
observed) way of losing one (`losses` in its profile). Exit 0 nothing lost or reordered,
1 any anomaly, 2 invalid input: a log that cannot be read, a broker that does not answer,
or request ids that cannot be joined to event ids (no id header on the calls).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from chaosbus.clients.connection import KafkaSettings
from chaosbus.clients.errors import BrokerUnreachable
from chaosbus.errors import InvalidInput, Unreachable
from chaosbus.injectors.http.log_record import LoggedRequest
from chaosbus.monitors.anomalies import AUTOMATION_ANOMALIES
from chaosbus.monitors.errors import MonitorError
from chaosbus.monitors.extractors import ExtractorConfig, compile_extractors
from chaosbus.monitors.handoff import ACCEPTED, HandoffVerdict, judge_handoff
from chaosbus.monitors.history import SourceEvent
from chaosbus.monitors.probes.kafka_reader import read_source
from chaosbus.monitors.remedies import remedy
from chaosbus.platforms.profile import profile


async def read_published(
    kafka: KafkaSettings, topic: str, extract: ExtractorConfig
) -> tuple[list[SourceEvent], Counter[str]]:
    """Every message of `topic` up to its end now, as source events; and what did not parse."""
    extractor = compile_extractors(extract)
    try:
        envelopes = await read_source(kafka, topic)
    except (MonitorError, BrokerUnreachable) as exc:
        raise Unreachable(str(exc)) from exc
    events = [event for event in map(extractor, envelopes) if event is not None]
    return events, extractor.unparsable


def read_log(path: Path, route: str | None) -> list[LoggedRequest]:
    # Imported here: the HTTP side (aiohttp) is not needed at start-up by other commands.
    from chaosbus.streams.http import read_request_log

    try:
        entries = read_request_log(path)
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read the request log ({exc.strerror})") from exc
    if route is not None:
        entries = [e for e in entries if e.route == route]
    if not entries:
        where = f" for route {route!r}" if route else ""
        raise InvalidInput(f"{path}: no request logged{where}")
    return entries


def cause_for(platform: str | None) -> str:
    if platform is None:
        return ACCEPTED
    return f"{ACCEPTED} ({profile(platform).title}: {profile(platform).losses.value.strip()})"


async def handoff(
    log_path: Path,
    kafka: KafkaSettings,
    topic: str,
    *,
    extract: ExtractorConfig,
    route: str | None = None,
    platform: str | None = None,
) -> tuple[HandoffVerdict, Counter[str]]:
    cause = cause_for(platform)  # an unknown platform is refused before anything is read
    entries = read_log(log_path, route)
    events, unparsable = await read_published(kafka, topic, extract)
    verdict = judge_handoff(entries, events, topic=topic, cause=cause)
    if verdict.accepted == 0 and verdict.unjoinable:
        raise InvalidInput(
            f"{log_path}: the {verdict.unjoinable} accepted requests carry no event id (their "
            "ids are body hashes): send the event id in the header chaosbus http reads "
            "(--id-header, Idempotency-Key by default)"
        )
    return verdict, unparsable


def verdict_lines(
    verdict: HandoffVerdict, unparsable: Counter[str], platform: str | None = None
) -> list[str]:
    counts = verdict.counts()
    lines = [
        f"accepted by the automation: {verdict.accepted}; published: {verdict.published}",
        "anomalies: "
        + (", ".join(f"{k} {counts[k]}" for k in AUTOMATION_ANOMALIES if counts[k]) or "none"),
    ]
    if verdict.unjoinable:
        lines.append(f"not joined (no event id on the call): {verdict.unjoinable}")
    if unparsable:
        lines.append(f"source messages not read: {dict(unparsable)}")
    if verdict.window is not None:
        first, last = (
            datetime.fromtimestamp(t / 1000, UTC).strftime("%H:%M:%S.%f")[:-3]
            for t in verdict.window
        )
        lines.append(f"unpublished events were accepted between {first} and {last} UTC")
    for finding in verdict.findings[:20]:
        lines.append(f"- {finding.anomaly}: {finding.unit}: {finding.detail}")
        lines.append(f"    cause: {finding.cause}")
    for name in AUTOMATION_ANOMALIES:
        advice = remedy(name)
        if counts[name] and advice is not None:
            lines.append(f"{name}: {advice.explanation}")
            lines.append(f"    in the automation: {advice.for_platform(platform)}")
            lines += [f"    in the service: {change}" for change in advice.service]
    return lines
