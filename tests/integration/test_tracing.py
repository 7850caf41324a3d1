"""Trace context continues through the interposer, across a delay, on the real broker."""

from __future__ import annotations

import asyncio

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from chaosbus.clients.connection import KafkaSettings
from chaosbus.contracts.ledger_record import LEDGER_TOPIC
from chaosbus.contracts.routes import Route
from chaosbus.injectors import FaultPlan, parse_fault_document
from chaosbus.streams.interposer import InterposerConfig
from chaosbus.streams.proxy import Proxy
from chaosbus.streams.telemetry import Telemetry
from chaosbus.testing import (
    Message,
    create_topics,
    ledger_of,
    produce,
    read_all,
    wait_for_committed_count,
)

pytestmark = pytest.mark.integration

DELAY_MS = 300


class TestTracing:
    @pytest.mark.parametrize("delivery", ["at-least-once", "exactly-once"])
    async def test_parent_chain_survives_a_delay(
        self, bootstrap: str, topic_name: str, delivery: str
    ) -> None:
        """In both modes: upstream span → decide → emit (after the delay, parked in
        exactly-once) → the traceparent the service reads; the ledger names the trace."""
        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        upstream = provider.get_tracer("test.automation")
        messages = []
        roots = {}
        for i in range(5):
            with upstream.start_as_current_span(f"webhook {i}") as root:
                carrier: dict[str, str] = {}
                TraceContextTextMapPropagator().inject(carrier)
                roots[str(i).encode()] = root.get_span_context()
                headers = tuple((k, v.encode()) for k, v in carrier.items())
                messages.append(Message(key=b"k", value=str(i).encode(), headers=headers))

        source, destination = f"{topic_name}.src", f"{topic_name}.dst"
        await create_topics(bootstrap, [source, destination], 1)
        await produce(bootstrap, source, messages)
        plan = FaultPlan.from_file(
            parse_fault_document(
                {
                    "faults": [
                        {
                            "type": "delay",
                            "probability": 1.0,
                            "distribution": {"kind": "fixed", "ms": DELAY_MS},
                        }
                    ]
                },
                "test",
            ),
            seed=1,
        )
        route = Route(source, destination)
        proxy = Proxy(
            [route],
            InterposerConfig(
                kafka=KafkaSettings(bootstrap),
                run_id=f"trace-{topic_name}",
                group_id=f"g-{topic_name}",
            ),
            deciders={route: plan},
            telemetry_for=lambda r: Telemetry(provider, route=r.name),
            delivery=delivery,  # type: ignore[arg-type]
        )
        stopping = asyncio.Event()
        task = asyncio.create_task(proxy.run(stopping))
        assert await wait_for_committed_count(bootstrap, destination, 5, timeout_s=60) == 5
        stopping.set()
        await task

        spans = exporter.get_finished_spans()
        decides = {
            s.attributes["messaging.kafka.offset"]: s for s in spans if s.name == "chaosbus.decide"
        }
        emits = {s.context.span_id: s for s in spans if s.name == "chaosbus.emit"}
        for record in await read_all(bootstrap, destination):
            traceparents = [v.decode() for k, v in record.headers if k == "traceparent"]
            assert len(traceparents) == 1, "the inbound traceparent must be replaced, not appended"
            _, trace_id, span_id, _ = traceparents[0].split("-")
            emit = emits[int(span_id, 16)]
            decide = decides[int(record.value or b"0")]
            root = roots[record.value or b""]
            assert emit.parent is not None
            assert emit.parent.span_id == decide.context.span_id
            assert decide.parent is not None
            assert decide.parent.span_id == root.span_id
            assert int(trace_id, 16) == root.trace_id
            assert decide.attributes["chaosbus.fault"] == "delay"
            assert emit.attributes["chaosbus.planned_delay_ms"] == DELAY_MS
            # The emission span starts when the held message is released, not when decided.
            assert emit.start_time - decide.start_time >= DELAY_MS * 1_000_000
        ledgered = ledger_of(await read_all(bootstrap, LEDGER_TOPIC))
        traces = {r.offset: r.trace_id for r in ledgered if r.run_id == f"trace-{topic_name}"}
        assert traces == {i: format(roots[str(i).encode()].trace_id, "032x") for i in range(5)}
