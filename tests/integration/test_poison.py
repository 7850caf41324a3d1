"""Poison input on the real broker: forwarded as it is, counted, never a crash or a wedge."""

from __future__ import annotations

import asyncio
import json
from typing import Literal

import pytest

from chaosbus.clients.connection import KafkaSettings
from chaosbus.contracts.routes import Route
from chaosbus.injectors import FaultPlan, parse_fault_document
from chaosbus.streams.config import InterposerConfig
from chaosbus.streams.proxy import Proxy
from chaosbus.streams.topics import TopicAdmin
from chaosbus.testing import (
    Message,
    committed_offsets,
    ledger_of,
    produce,
    read_all,
    wait_for_ledger,
)

pytestmark = pytest.mark.integration

BIG = {"max.message.bytes": str(4 * 1024 * 1024)}
LARGE_VALUE = b"L" * (1536 * 1024)
DEEP = ('{"kind":' * 1000 + '"dup"' + "}" * 1000).encode()

POISON = [
    Message(key=b"deep", value=DEEP),
    Message(key=b"utf8", value=b'\xff\xfe{"kind": "dup"}'),
    Message(key=b"nullhdr", value=b"plain", headers=(("event-id", None), ("other", b"x"))),
    Message(key=b"tomb", value=None),
    Message(key=None, value=b"keyless"),
    Message(key=b"large", value=LARGE_VALUE),
    # The one message the json match selects: duplicated, so matching still works.
    Message(key=b"json", value=b'{"kind": "dup"}', headers=(("event-id", b"e-json"),)),
]

FAULTS = {
    "faults": [
        {
            "type": "duplicate",
            "probability": 1.0,
            "copies": 1,
            "match": {"json": {"kind": {"equals": "dup"}}},
        }
    ]
}


class TestPoisonInput:
    @pytest.mark.parametrize("delivery", ["at-least-once", "exactly-once"])
    async def test_every_kind_is_forwarded_as_it_is_and_counted(
        self,
        bootstrap: str,
        topic_name: str,
        delivery: Literal["at-least-once", "exactly-once"],
    ) -> None:
        """Deep JSON, invalid UTF-8, a null header with --event-id-header, a tombstone, a
        keyless message and a 1.5 MiB value pass through byte for byte and are counted."""
        source, destination = f"{topic_name}.src", f"{topic_name}.dst"
        ledger = f"{topic_name}.ledger"
        async with TopicAdmin(KafkaSettings(bootstrap)) as admin:
            await admin.create(source, 1, config=BIG)
            await admin.create(destination, 1, config=BIG)
        await produce(bootstrap, source, POISON, max_request_size=8 * 1024 * 1024)

        plan = FaultPlan.from_file(parse_fault_document(FAULTS, "test"), seed=7)
        route = Route(source, destination)
        config = InterposerConfig(
            kafka=KafkaSettings(bootstrap),
            run_id="poison",
            group_id=f"g-{topic_name}",
            ledger_topic=ledger,
            event_id_header="event-id",
        )
        proxy = Proxy([route], config, deciders={route: plan}, delivery=delivery)
        stopping = asyncio.Event()
        task = asyncio.create_task(proxy.run(stopping))
        assert await wait_for_ledger(bootstrap, ledger, len(POISON), timeout_s=60) == len(POISON)
        stopping.set()
        report = await task

        forwarded = await read_all(bootstrap, destination)
        assert [(r.key, r.value, r.headers) for r in forwarded] == [
            (m.key, m.value, m.headers) for m in POISON + POISON[-1:]
        ]
        records = ledger_of(await read_all(bootstrap, ledger))
        by_offset = {r.offset: r for r in records}
        assert sorted(by_offset) == list(range(len(POISON)))
        assert by_offset[2].event_id == f"{source}:0:2"  # the null header falls back
        assert by_offset[6].event_id == "e-json"
        assert [by_offset[o].fault for o in range(7)] == ["pass"] * 6 + ["duplicate"]
        assert plan.counts["non_json"] == 6
        counts = report.counts
        assert (counts["tombstone"], counts["keyless"], counts["null_header"]) == (1, 1, 1)
        assert counts["large_value"] == 1
        assert (counts["pass"], counts["duplicate"]) == (6, 1)
        assert await committed_offsets(bootstrap, f"g-{topic_name}") == {(source, 0): 7}
        assert json.loads(forwarded[-1].value or b"") == {"kind": "dup"}
