"""Set-up of the program's integration tests: one small experiment with its own traffic (a
recording replayed as its workload), a demo service running beside the test in a thread of
its own (so the real CLI runs in the test's thread, signals and all), and a history per
store."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import yaml

from chaosbus.clients.connection import KafkaSettings
from chaosbus.traffic.file_format import RecordingWriter
from chaosbus.traffic.records import TrafficRecord
from chaosbus_demo.events import EVENT_ID_HEADER
from chaosbus_demo.services import LedgerService, ServiceConfig
from chaosbus_demo.traffic import order_events
from tests.integration.runner_support import ORDER_STATE_CHECK

EVENTS = 120
SCHEDULE = {"warmup_s": 1, "inject_s": 3, "recover_s": 2}


@dataclass(frozen=True)
class Topics:
    source: str
    destination: str

    @classmethod
    def fresh(cls, stem: str) -> Topics:
        tag = uuid.uuid4().hex[:8]
        return cls(f"{stem}-{tag}.src", f"{stem}-{tag}.dst")


def write_recording(path: Path, namespace: str) -> Path:
    """The demo's order events as a recording: what the experiment's workload replays."""
    with RecordingWriter(path, {"generator": {"name": "order_events"}}) as writer:
        for n, event in enumerate(order_events(EVENTS, seed=3, namespace=namespace)):
            writer.write(
                TrafficRecord(
                    key=event.order_id.encode(),
                    value=event.to_json(),
                    headers=((EVENT_ID_HEADER, event.event_id.encode()),),
                    timestamp_ms=1_700_000_000_000 + n,
                    offset=n,
                )
            )
    return path


def experiment(topics: Topics, recording: Path, group: str) -> dict[str, Any]:
    """A smoke experiment: duplicates under a workload of its own, the service's consumer
    group watched (its lag is part of recovery), a slow consumer not taken for a stall."""
    return {
        "name": "history-storm",
        "hypothesis": "Every order keeps its newest version even when events arrive twice.",
        "tier": "smoke",
        "routes": [{"from": topics.source, "to": topics.destination}],
        "seed": 11,
        "schedule": SCHEDULE,
        "group_id": f"g-{topics.source}",
        "faults": [{"name": "retries", "type": "duplicate", "probability": 0.3, "copies": 2}],
        "workload": {"replay": str(recording), "rate": 1000},
        "monitor": {
            "source_topic": topics.source,
            "settle_ms": 1500,
            "service_group": group,
            "stall_ms": 60_000,
            "checks": [ORDER_STATE_CHECK],
        },
        "steady_state": [{"metric": "anomalies.total", "max": 0}],
    }


def write_experiment(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


@contextlib.contextmanager
def service_running(config: ServiceConfig) -> Iterator[LedgerService]:
    """A demo service consuming in a thread with its own event loop, until the block ends."""
    ready = threading.Event()
    box: dict[str, Any] = {}

    async def main() -> None:
        stop = asyncio.Event()
        box["loop"], box["stop"] = asyncio.get_running_loop(), stop
        async with LedgerService(config) as service:
            box["service"] = service
            ready.set()
            await service.run(stop)

    def target() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:  # said by the test that waits on it
            box["error"] = exc
            ready.set()

    thread = threading.Thread(target=target, name=f"service-{config.group}", daemon=True)
    thread.start()
    ready.wait(timeout=60)
    if "error" in box:
        raise box["error"]
    try:
        yield box["service"]
    finally:
        box["loop"].call_soon_threadsafe(box["stop"].set)
        thread.join(timeout=60)


def safe_service(
    kafka: KafkaSettings, redis_url: str, topics: Topics, prefix: str, group: str, **extra: Any
) -> ServiceConfig:
    return ServiceConfig(
        kind="safe",
        topic=topics.destination,
        kafka=kafka,
        redis_url=redis_url,
        prefix=prefix,
        group_id=group,
        **extra,
    )


def postgres_history(dsn: str) -> tuple[str, str]:
    """A schema of its own on the test PostgreSQL: (its URL for --history, its name)."""
    schema = f"history_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    joiner = "&" if "?" in dsn else "?"
    return f"{dsn}{joiner}options=-csearch_path%3D{schema}", schema


def drop_schema(dsn: str, schema: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")
