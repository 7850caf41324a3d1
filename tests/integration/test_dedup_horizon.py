"""The deduplication horizon measured on a service with a known window.

ledger-safe with `seen_ttl_s=2` forgets an event id 2 s after applying it (Redis `SET NX
PX 2000`), so a copy later than that is applied twice. `chaosbus horizon`'s search replays
sampled events at a doubling ladder, then splits the bracket until it is narrower than
0.25 s: the window must fall inside what it reports, with that precision. The copy's delay
runs from the original's decision; the original is applied a few ms after it, so the bound
is checked with 0.1 s of slack.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from chaosbus.clients.connection import KafkaSettings
from chaosbus.control import operations as control_commands
from chaosbus.experiment import parse_experiment
from chaosbus.platforms.horizon import HorizonPlan, measure
from chaosbus.platforms.profile import profile
from chaosbus.runner import RunOptions
from chaosbus.testing import create_topics, unique_topic
from chaosbus_demo.background import services_running
from chaosbus_demo.services import ServiceConfig
from chaosbus_demo.traffic import KafkaSink, iter_order_events, play

pytestmark = pytest.mark.integration

WINDOW_S = 2.0
PRECISION_S = 0.25
SLACK_S = 0.1


def horizon_experiment(source: str, destination: str, effects: str) -> dict[str, object]:
    return {
        "name": "dedup-horizon",
        "hypothesis": "A copy is recognised however late it comes.",
        "routes": [{"from": source, "to": destination}],
        "seed": 5,
        "group_id": f"{source}.chaosbus",
        "schedule": {"inject_s": 1},
        "faults": [{"type": "duplicate", "probability": 0.1}],  # replaced round by round
        "monitor": {
            "source_topic": source,
            "settle_ms": 1000,
            "checks": [
                {
                    "name": "applied-once",
                    "model": "once",
                    "extract": {"event_id": {"json": "$.event_id"}},
                    "probe": {
                        "kind": "kafka",
                        "topic": effects,
                        "event_id": {"json": "$.event_id"},
                    },
                }
            ],
        },
    }


async def test_a_two_second_window_is_found(bootstrap: str, redis_url: str, tmp_path: Path) -> None:
    """Recognised up to ≥ X s, applied twice from Y s, with X ≤ 2 s ≤ Y and Y - X ≤ 0.25 s;
    Zapier's first replay (5 min) and n8n's retries (1 s, 2 s) placed against it."""
    tag = uuid.uuid4().hex[:8]
    source, destination, effects = (unique_topic(f"horizon-{n}") for n in ("src", "dst", "fx"))
    await create_topics(bootstrap, [source, destination, effects], 3)
    kafka = KafkaSettings(bootstrap)
    service = ServiceConfig(
        kind="safe",
        topic=destination,
        kafka=kafka,
        redis_url=redis_url,
        prefix=f"safe:{tag}:",
        group_id=f"horizon-{tag}",
        seen_ttl_s=WINDOW_S,
        effects_topic=effects,
    )
    await control_commands.init(redis_url, "test", namespace=f"chaosbus-test-{tag}")
    options = RunOptions(
        kafka=kafka,
        redis_url=redis_url,
        actor="integration-test",
        control_namespace=f"chaosbus-test-{tag}",
    )
    plan = HorizonPlan(
        min_delay_ms=250,
        max_delay_ms=8_000,
        precision_ms=round(PRECISION_S * 1000),
        samples=1,
        points=4,
        max_rounds=5,
        inject_s=3.0,
    )
    spec = parse_experiment(horizon_experiment(source, destination, effects))
    stop = asyncio.Event()
    async with services_running([service]), KafkaSink(kafka, source) as sink:
        traffic = asyncio.create_task(
            play(iter_order_events(5, namespace=f"{tag}-"), sink, rate=30, stop=stop)
        )
        try:
            result = await measure(spec, options, plan, say=print)
        finally:
            stop.set()
            await traffic
    for line in result.lines([profile("zapier"), profile("n8n")]):
        print(line)
    found = result.bracket
    assert found.held_ms is not None, result.lines([])
    assert found.failed_ms is not None, result.lines([])
    held_s, failed_s = found.held_ms / 1000, found.failed_ms / 1000
    assert held_s <= WINDOW_S + SLACK_S
    assert failed_s >= WINDOW_S - SLACK_S
    assert failed_s - held_s <= PRECISION_S
    # Bounded: every round capped its faults at samples * delays * partitions.
    assert result.faults <= plan.max_rounds * 6 * 3
    assert found.inconsistent == ()
    zapier = result.lines([profile("zapier")])[-1]
    assert zapier.startswith("Zapier re-sends at 5m, 35m, 1h35m, 4h35m, 10h35m; applied twice: 5m")
