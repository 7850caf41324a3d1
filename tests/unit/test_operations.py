"""Operating chaosbus without a broker: JSON log lines, the route's metrics, scoped pauses in
the plans and the route loop, what a pause may name, and the dry run's prediction."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter

import aiohttp
import pytest
from aiohttp import web
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from chaosbus.clients.connection import KafkaSettings
from chaosbus.contracts.routes import Route
from chaosbus.control.scopes import Scope, paused_state
from chaosbus.errors import InvalidInput
from chaosbus.experiment.declared import Declared
from chaosbus.injectors.envelope import Envelope, SourceCoordinates
from chaosbus.injectors.http.error import ErrorFault
from chaosbus.injectors.http.plan import HttpPlan
from chaosbus.injectors.plan import FaultPlan
from chaosbus.injectors.spec import (
    BlastRadius,
    DelayFault,
    DropFault,
    DuplicateFault,
    FixedDelay,
)
from chaosbus.logs import JsonFormatter, log_format
from chaosbus.planning.predict import predict_route
from chaosbus.streams.action_log import ActionLog
from chaosbus.streams.at_least_once import AtLeastOnce
from chaosbus.streams.config import InterposerConfig
from chaosbus.streams.delivery import RouteContext
from chaosbus.streams.http import HttpInterposer, HttpRoute, RequestLog
from chaosbus.streams.interposer import RouteInterposer
from chaosbus.streams.ledger import pseudonym
from chaosbus.streams.memory import MemoryCluster, MemoryProducer
from chaosbus.streams.telemetry import Telemetry
from chaosbus.testing import poll_until
from chaosbus.traffic.records import TrafficRecord

FAULTS = (
    DuplicateFault(name="twice", probability=0.3),
    DropFault(name="gone", probability=0.1),
    DelayFault(
        name="late",
        probability=0.2,
        distribution=FixedDelay(ms=60_000),
        preserve_order=False,
    ),
)


def envelope(offset: int, partition: int = 0, key: bytes = b"k") -> Envelope:
    return Envelope(key, b"{}", (), 1_000 + offset, SourceCoordinates("src", partition, offset))


def emitted_json(record: logging.LogRecord) -> dict[str, object]:
    return json.loads(JsonFormatter().format(record))  # type: ignore[no-any-return]


class TestJsonLines:
    def test_a_record_is_one_object_with_its_extras(self) -> None:
        """time, level, logger, message and every `extra` field, on one line."""
        record = logging.makeLogRecord(
            {"name": "chaosbus.actions", "levelno": 20, "levelname": "INFO", "msg": "a %s",
             "args": ("b",), "action": "decide", "fault": "drop", "payload_bytes": 12}
        )  # fmt: skip
        line = JsonFormatter().format(record)
        assert "\n" not in line
        parsed = json.loads(line)
        assert parsed["time"].endswith("Z")
        assert {k: parsed[k] for k in ("level", "logger", "message", "action", "fault")} == {
            "level": "INFO",
            "logger": "chaosbus.actions",
            "message": "a b",
            "action": "decide",
            "fault": "drop",
        }
        assert parsed["payload_bytes"] == 12

    def test_a_password_never_reaches_a_line(self) -> None:
        """A URL with a password in the message, in a field or in a list is redacted; bytes
        are shown as their size only."""
        secret = "redis://:hunter2@redis.internal:6379/0"
        record = logging.makeLogRecord(
            {"msg": "connecting to %s", "args": (secret,), "url": secret, "urls": [secret],
             "value": b"payload"}
        )  # fmt: skip
        line = JsonFormatter().format(record)
        assert "hunter2" not in line
        assert json.loads(line)["url"] == "redis://:***@redis.internal:6379/0"
        assert json.loads(line)["value"] == "<7 bytes>"

    def test_an_unknown_format_is_one_line(self) -> None:
        """`--log-format yaml` is refused naming the flag and the two known formats."""
        with pytest.raises(InvalidInput, match=r"--log-format 'yaml': expected text or json"):
            log_format("yaml")


class TestRouteMetrics:
    def test_every_route_reports_its_held_gauge(self) -> None:
        """Two routes on one meter: both held gauges are collected (the SDK keeps only the
        first callback of an instrument created twice; the gauges are registered once)."""
        reader = InMemoryMetricReader()
        provider = MeterProvider(metric_readers=[reader])
        for route, held in (("a->b", 3), ("c->d", 4)):
            Telemetry(None, provider, route=route).observe_held(lambda n=held: n)
        points = {
            point.attributes["chaosbus.route"]: point.value
            for rm in reader.get_metrics_data().resource_metrics
            for sm in rm.scope_metrics
            for metric in sm.metrics
            if metric.name == "chaosbus.held"
            for point in metric.data.data_points
        }
        assert points == {"a->b": 3, "c->d": 4}


class TestPausedFaults:
    def test_a_paused_fault_passes_and_the_others_decide_as_before(self) -> None:
        """Pausing `twice`: what it took passes (reason `paused`); every other message gets
        exactly the decision it gets unpaused."""
        plain = FaultPlan(FAULTS, BlastRadius(), 7)
        paused = FaultPlan(FAULTS, BlastRadius(), 7)
        assert paused.pause({"twice", "not-declared"})
        assert not paused.pause({"twice"})  # already paused: nothing newly paused
        for offset in range(300):
            before = plain.decide(envelope(offset), 1_000)
            after = paused.decide(envelope(offset), 1_000)
            if before.fault_name == "twice":
                assert (after.fault, after.reason) == ("pass", "paused")
            else:
                assert (after.fault, after.fault_name) == (before.fault, before.fault_name)
        assert paused.counts["duplicate"] == 0
        assert plain.counts["duplicate"] > 0

    async def test_a_pause_releases_what_the_route_holds(self) -> None:
        """`late` holds copies for a minute; pausing it releases them all on the next turn,
        as the kill switch does, and later messages are no longer delayed."""
        cluster = MemoryCluster()
        for topic in ("src", "dst"):
            cluster.create(topic, 1)
        cluster.create("ledger", 3)
        for i in range(40):
            cluster.append("src", 0, f"k{i}".encode(), f"m{i}".encode())
        plan = FaultPlan(FAULTS[2:], BlastRadius(), 7)
        settings = InterposerConfig(
            kafka=KafkaSettings("memory"), run_id="r", group_id="g", ledger_topic="ledger"
        )
        context = RouteContext(Route("src", "dst"), settings, keep_partition=True)
        delivery = AtLeastOnce(context, MemoryProducer(cluster))
        loop = RouteInterposer(context, plan, delivery, consumer_factory=cluster.consumer_factory())
        stopping = asyncio.Event()
        task = asyncio.create_task(loop.run(stopping))
        # The loop is another task: its counters are read between its turns.
        await poll_until(lambda: loop.counts["pass"] + loop.counts["delay"], lambda n: n == 40,
                         timeout_s=5, every_s=0.01)  # fmt: skip
        delayed = loop.counts["delay"]
        assert loop.held == delayed > 0
        loop.pause_faults({"late"})
        released = await poll_until(lambda: loop.held, lambda n: n == 0, timeout_s=5, every_s=0.01)
        assert released == 0
        assert len(cluster.values("dst")) == 40
        stopping.set()
        await task


class TestWhatAPauseNames:
    DECLARED = Declared(
        "exp.yaml", routes=(("orders.nocode", "orders", "orders-id"),), http_routes=("pricing",),
        faults=("twice", "gone"),
    )  # fmt: skip

    def test_a_route_by_source_pair_or_id_is_its_source(self) -> None:
        """SOURCE, SOURCE:DESTINATION and the route id all name the route by its source."""
        for text in ("orders.nocode", "orders.nocode:orders", "orders-id"):
            assert self.DECLARED.route(text) == "orders.nocode"

    def test_what_the_file_does_not_declare_is_one_line(self) -> None:
        """An undeclared fault, route or HTTP route: one line naming it and what is declared."""
        with pytest.raises(InvalidInput) as fault:
            self.DECLARED.fault("tripple")
        assert str(fault.value) == "exp.yaml declares no fault 'tripple' (faults: twice, gone)"
        with pytest.raises(InvalidInput, match=r"declares no route 'payments' \(routes: "):
            self.DECLARED.route("payments")
        with pytest.raises(InvalidInput, match=r"declares no HTTP route 'billing'"):
            self.DECLARED.http_route("billing")

    def test_an_unreadable_scope_state_pauses_everything(self) -> None:
        """Fail closed: a key of another type pauses every scope; a field whose value does
        not parse still pauses its own scope."""
        assert paused_state(None).covers(Scope("fault", "anything"))
        garbage = paused_state({"fault:twice": "not json"})
        assert garbage.covers(Scope("fault", "twice"))
        assert not garbage.covers(Scope("fault", "gone"))
        assert garbage.names("fault") == {"twice"}


class TestPrediction:
    def records(self, count: int, partitions: int = 2) -> list[TrafficRecord]:
        return [
            TrafficRecord(f"k{i % 10}".encode(), b"{}", (), 10_000 + 100 * i, i % partitions, i)
            for i in range(count)
        ]

    def test_the_prediction_is_the_plan_run_over_the_window(self) -> None:
        """Counts by type and name are those of the same plan deciding the same messages;
        copies, keys touched and the peak of held copies follow from them."""
        records = self.records(200)
        summary = predict_route(
            Route("src", "dst"), records, faults=FAULTS, blast_radius=BlastRadius(), seed=7
        )
        plan = FaultPlan(FAULTS, BlastRadius(), 7, route_id="src")
        decided = [
            plan.decide(envelope(r.offset, r.partition, r.key or b""), r.timestamp_ms)
            for r in records
        ]
        assert summary.faults == {k: plan.counts[k] for k in summary.faults}
        assert summary.by_name == dict(Counter(d.fault_name for d in decided if d.fault_name))
        assert summary.copies == sum(len(d.emissions) for d in decided)
        # A one-minute delay over a 20-second window: every delayed copy is still held.
        assert summary.peak_held == summary.faults["delay"]
        assert summary.keys.seen == 10

    def test_a_cap_that_binds_is_named_with_where_it_first_did(self) -> None:
        """max_faults 5: the sixth fault is refused, and the summary says where."""
        records = self.records(200, partitions=1)
        summary = predict_route(
            Route("src", "dst"), records, faults=FAULTS,
            blast_radius=BlastRadius(max_faults=5), seed=7,
        )  # fmt: skip
        assert summary.injected == 5
        (cap,) = summary.caps
        assert cap.cap == "max_faults"
        assert cap.refused == summary.reasons["max_faults"] > 0
        first = next(line for line in summary.lines() if "binds" in line)
        assert f"offset {cap.first_offset}" in first

    def test_an_empty_window_predicts_nothing(self) -> None:
        """No message: nothing predicted, and the line says so."""
        summary = predict_route(
            Route("src", "dst"), [], faults=FAULTS, blast_radius=BlastRadius(), seed=7
        )
        assert (summary.messages, summary.injected, summary.peak_held) == (0, 0, 0)
        assert summary.lines() == ["src->dst: no messages in the window: nothing predicted"]


class TestActionIdentifiers:
    def test_hashed_identifiers_are_the_ledgers_pseudonyms(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """With the run's salt (`privacy: hashed`), a decide record's key and event id are
        the ledger's pseudonyms, and the key is nowhere in clear."""
        salt = b"0123456789abcdef"
        caplog.set_level(logging.DEBUG, logger="chaosbus.actions")
        plan = FaultPlan(FAULTS[:1], BlastRadius(), 7)
        message = envelope(3, key=b"customer-42")
        ActionLog("src->dst", salt).decided(message, plan.decide(message, 0), "evt-9", None)
        (record,) = caplog.records
        assert (record.key, record.event_id) == (  # type: ignore[attr-defined]
            pseudonym(salt, b"customer-42"),
            pseudonym(salt, b"evt-9"),
        )
        assert "customer-42" not in JsonFormatter().format(record)

    def test_the_trace_id_of_the_message_is_in_the_record(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A message with a `traceparent`: its trace id is the decide record's."""
        caplog.set_level(logging.DEBUG, logger="chaosbus.actions")
        trace = "4bf92f3577b34da6a3ce929d0e0e4736"
        message = Envelope(
            b"k", b"{}", (("traceparent", f"00-{trace}-00f067aa0ba902b7-01".encode()),), 0,
            SourceCoordinates("src", 0, 0),
        )  # fmt: skip
        telemetry = Telemetry(None)
        decision = FaultPlan((), BlastRadius(), 7).decide(message, 0)
        trace_id = telemetry.decided(message, decision.fault, 1, 0)
        ActionLog("src->dst").decided(message, decision, "e", trace_id)
        assert caplog.records[0].trace_id == trace  # type: ignore[attr-defined]


class TestHttpMetrics:
    async def test_requests_and_decisions_are_counted_per_fault(self) -> None:
        """Ten requests through `chaosbus http`'s interposer, half answered 503 by a fault:
        the request and decision counters equal its request log."""

        async def ok(_: web.Request) -> web.Response:
            return web.Response(text="ok")

        upstream = web.Application()
        upstream.router.add_get("/{tail:.*}", ok)
        runner = web.AppRunner(upstream)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        reader = InMemoryMetricReader()
        plan = HttpPlan((ErrorFault(name="busy", probability=0.5),), BlastRadius(), 7)
        route = HttpRoute(
            name="api", listen_host="127.0.0.1", listen_port=0,
            upstream=f"http://127.0.0.1:{port}",
        )  # fmt: skip
        log = RequestLog()
        provider = MeterProvider(metric_readers=[reader])
        try:
            async with (
                HttpInterposer(route, plan, log, meter_provider=provider) as proxy,
                aiohttp.ClientSession() as session,
            ):
                for i in range(10):
                    async with session.get(f"{proxy.url}/p/{i}") as answer:
                        await answer.read()
        finally:
            await runner.cleanup()
        values = {
            (metric.name, point.attributes.get("chaosbus.fault")): point.value
            for rm in reader.get_metrics_data().resource_metrics
            for sm in rm.scope_metrics
            for metric in sm.metrics
            if metric.name.startswith("chaosbus.http.") and metric.name != "chaosbus.http.duration"
            for point in metric.data.data_points
        }
        faults = Counter(entry.fault for entry in log.entries)
        assert values == {
            ("chaosbus.http.requests", None): 10,
            ("chaosbus.http.decisions", "error"): faults["error"],
            ("chaosbus.http.decisions", "pass"): faults["pass"],
            ("chaosbus.http.delivered", None): sum(e.delivered for e in log.entries),
        }
        assert 0 < faults["error"] < 10
