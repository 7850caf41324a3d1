"""Two more golden runs, pinned before the fault registry took its shape (issue 18): the HTTP
plan's decisions, and a topic plan through intensity phases and the kill switch.

`test_golden_decisions.py` pins a topic plan at full intensity. These pin what it leaves
out: an HTTP plan over every HTTP fault type (matching, triggers, caps, intensity), and a
topic plan whose intensity goes 1 → 0 → 0.5 → 1 with a disabled stretch, so count triggers
at intensity 0, a forced outage and a drop burst across phases are all held to one answer.
Each line is a plain description of one decision, independent of the types that carry it.

Regenerate only for an intended change of decisions: run this module with
CHAOSBUS_GOLDEN_WRITE=1 and say why in the commit.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from chaosbus.injectors.envelope import Emission, Envelope, SourceCoordinates
from chaosbus.injectors.http.action import HangUp, Relay, Respond
from chaosbus.injectors.http.plan import HttpAction, HttpPlan, HttpRequest
from chaosbus.injectors.http.spec import HttpFaultFile
from chaosbus.injectors.plan import FaultPlan
from chaosbus.injectors.spec import FaultFile

GOLDEN = Path(__file__).parent.parent / "golden"

HTTP_FAULTS = {
    "seed": 77,
    "blast_radius": {"max_faults": 32, "max_faults_per_s": 6, "max_key_share": 0.8},
    "faults": [
        {"name": "first-posts-fail", "type": "error", "status": 503, "retry_after_s": 2,
         "body": "busy", "match": {"method": "POST"}, "trigger": {"first": 3}},
        {"name": "slow", "type": "latency", "probability": 0.1,
         "distribution": {"kind": "uniform", "min_ms": 5, "max_ms": 900}},
        {"name": "stuck", "type": "hang", "probability": 0.06, "hang_ms": 1_500},
        {"name": "cut", "type": "reset", "probability": 0.1, "match": {"path": "/hooks/*"}},
        {"name": "half", "type": "truncate", "probability": 0.05, "keep_share": 0.25},
        {"name": "twice", "type": "duplicate", "copies": 2,
         "match": {"json": {"kind": {"equals": "paid"}}}, "trigger": {"every": 7, "times": 5}},
        {"name": "teapot", "type": "error", "probability": 0.04, "status": 418},
    ],
}  # fmt: skip

# Phases of (requests or messages, intensity, enabled), run in order.
PHASES = ((120, 1.0, True), (60, 0.0, True), (90, 0.5, True), (30, 1.0, False), (150, 1.0, True))
STEP_MS = 11


def http_request(sequence: int) -> HttpRequest:
    method = ("POST", "PUT", "GET")[sequence % 3]
    kind = ("created", "paid", "cancelled")[sequence % 5 % 3]
    body = json.dumps({"id": f"r-{sequence % 41}", "kind": kind}).encode()
    if sequence % 13 == 4:
        body = b"not json"
    path = "/hooks/orders" if sequence % 2 else "/api/orders"
    return HttpRequest(
        route="api",
        sequence=sequence,
        method=method,
        path=path,
        headers={"content-type": "application/json"},
        body=body,
        request_id=f"k-{sequence % 41}",
        arrived_at_ms=1_000_000 + sequence * STEP_MS,
    )


def described(action: HttpAction) -> dict[str, object]:
    """What the proxy does with the request, in a vocabulary of its own."""
    reply = action.reply
    answer: object
    if isinstance(reply, HangUp):
        answer = "hang up"
    elif isinstance(reply, Respond):
        retry = dict(reply.headers).get("Retry-After")
        answer = [reply.status, None if retry is None else int(retry), reply.body]
    else:
        answer = ["relay", reply.body_share]
    return {
        "fault": action.fault,
        "name": action.fault_name,
        "reason": action.reason,
        "wait_ms": action.wait_ms,
        "deliveries": reply.deliveries if isinstance(reply, Relay) else 0,
        "answer": answer,
    }


def http_run() -> list[str]:
    fault_file = HttpFaultFile.model_validate(HTTP_FAULTS)
    plan = HttpPlan(fault_file.faults, fault_file.blast_radius, 77)
    lines, sequence = [], 0
    for count, intensity, enabled in PHASES:
        plan.intensity, plan.enabled = intensity, enabled
        for _ in range(count):
            lines.append(json.dumps(described(plan.decide(http_request(sequence)))))
            sequence += 1
    lines.append(json.dumps({kind: n for kind, n in plan.counts.items() if n}, sort_keys=True))
    return lines


TOPIC_FAULTS = {
    "seed": 4242,
    "blast_radius": {"max_faults": 200, "max_copies_per_message": 2, "max_key_share": 0.9},
    "faults": [
        {"name": "down", "type": "outage", "probability": 0.02, "duration_ms": 80,
         "match": {"key": "k1*"}},
        {"name": "lost", "type": "drop", "probability": 0.02, "burst": 3},
        {"name": "thrice", "type": "duplicate", "copies": 3, "trigger": {"every": 9}},
        {"name": "twice", "type": "duplicate", "probability": 0.05, "spread_ms": 30,
         "match": {"json": {"status": {"equals": "paid"}}}},
        {"name": "late", "type": "delay", "probability": 0.05,
         "distribution": {"kind": "exponential", "mean_ms": 40}},
        {"name": "shuffle", "type": "reorder", "probability": 0.05, "window": 3,
         "within_ms": 50},
        {"name": "again", "type": "replay", "probability": 0.03, "after_ms": 25},
        {"name": "first-two", "type": "corrupt", "mode": "extra", "trigger": {"first": 2}},
    ],
}  # fmt: skip
PARTITIONS = 2


def topic_message(partition: int, offset: int) -> Envelope:
    n = partition * 1000 + offset
    value = json.dumps({"status": ("paid", "created", "void")[n % 3], "n": n}).encode()
    return Envelope(
        key=f"k{n % 19}".encode(),
        value=b"\xff" if n % 23 == 7 else value,
        headers=(),
        timestamp_ms=offset,
        source=SourceCoordinates("orders", partition, offset),
    )


def topic_run() -> list[str]:
    plan = FaultPlan.from_file(FaultFile.model_validate(TOPIC_FAULTS))
    lines, offset, now = [], 0, 1_000_000
    for count, intensity, enabled in PHASES:
        plan.intensity, plan.enabled = intensity, enabled
        for _ in range(count // PARTITIONS):
            for partition in range(PARTITIONS):
                now += STEP_MS
                released = [_emission(e) for e in plan.poll(now)]
                d = plan.decide(topic_message(partition, offset), now)
                emitted = [_emission(e) for e in d.emissions]
                line = [partition, offset, d.fault, d.fault_name, d.reason, d.held, emitted]
                lines.append(json.dumps([line, released]))
            offset += 1
    lines.append(json.dumps([_emission(e) for e in plan.flush(now + 1_000)]))
    # Zero counts are left out, so a fault type added later does not change the line.
    counts = {kind: n for kind, n in plan.counts.items() if n}
    lines.append(json.dumps([counts, dict(plan.suppressed)], sort_keys=True))
    return lines


def _emission(e: Emission) -> list[object]:
    source = e.envelope.source
    value = hashlib.blake2b(e.envelope.value or b"", digest_size=4).hexdigest()
    return [source.partition, source.offset, e.copy, e.release_at_ms, e.planned_delay_ms,
            e.variant, value]  # fmt: skip


def compare(name: str, lines: list[str]) -> None:
    path = GOLDEN / name
    if os.environ.get("CHAOSBUS_GOLDEN_WRITE") == "1":
        path.write_text("\n".join(lines) + "\n")
    expected = path.read_text().splitlines()
    assert len(lines) == len(expected)
    for index, (got, want) in enumerate(zip(lines, expected, strict=True)):
        assert got == want, f"{name} line {index} differs"


class TestGoldenPlans:
    def test_http_decisions_are_pinned(self) -> None:
        """450 requests over every HTTP fault type and five phases give the pinned actions."""
        compare("http_decisions.jsonl", http_run())

    def test_topic_phases_are_pinned(self) -> None:
        """A topic plan through intensity 1, 0, 0.5, disabled and 1 gives the pinned decisions."""
        compare("topic_phases.jsonl", topic_run())

    def test_the_http_run_exercises_every_type_and_cap(self) -> None:
        """The pinned HTTP run has every fault type, a pass, and caps and the switch as reasons."""
        lines = (GOLDEN / "http_decisions.jsonl").read_text().splitlines()
        rows = [json.loads(line) for line in lines[:-1]]
        assert {r["fault"] for r in rows} == {
            "pass", "latency", "error", "hang", "reset", "truncate", "duplicate"
        }  # fmt: skip
        assert {r["reason"] for r in rows} >= {None, "disabled", "max_faults_per_s", "max_faults"}
