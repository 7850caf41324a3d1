"""The outside world of the demo: customers whose orders are created, updated, paid, cancelled.

`order_events(count, seed)` is a pure, seeded generator: the same seed gives the same
events, ids included. Up to `open_orders` orders are in flight at once, so events of
different orders interleave; each order's versions rise by one per event:
`created` (v1) → `updated` (v2..) → `paid` (with `amount`) or `cancelled` (a delete).

`play(events, sink, rate)` sends them at a steady rate to a sink, one at a time and in
order, so each order's events reach the source topic in version order:

- `WebhookSink(url)`: HTTP POST to the Node-RED webhook (stdlib `urllib` in a thread), with
  a W3C `traceparent` from a `traffic POST /orders` span when tracing is configured
  (OTEL_EXPORTER_OTLP_ENDPOINT), so a trace starts at the outside world.
- `KafkaSink(kafka, topic)`: straight to the source topic, exactly as the flow would
  write it (key = order id, header `event-id`), for tests that must not depend on Node-RED.

`python -m chaosbus_demo.traffic --webhook http://127.0.0.1:1880/orders --rate 20 --count 200`
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import signal
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Protocol

import typer
from aiokafka import AIOKafkaProducer
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from chaosbus.clients.connection import KafkaSettings
from chaosbus.clients.redaction import redact_text, redact_url
from chaosbus.commands.options import Bootstrap, KafkaConfig
from chaosbus.observability import providers_from_environment
from chaosbus.settings import resolve_kafka
from chaosbus_demo.errors import DemoError
from chaosbus_demo.events import EVENT_ID_HEADER, EventType, OrderEvent
from chaosbus_demo.health import mark_alive

_PROPAGATOR = TraceContextTextMapPropagator()


@dataclass
class _Order:
    order_id: str
    customer: str
    remaining_updates: int
    ends_paid: bool
    version: int = 0
    total: int = 0


def order_events(
    count: int,
    seed: int,
    *,
    customers: int = 10,
    open_orders: int = 8,
    namespace: str = "",
) -> list[OrderEvent]:
    """The first `count` events of `iter_order_events`."""
    stream = iter_order_events(
        seed, customers=customers, open_orders=open_orders, namespace=namespace
    )
    return list(itertools.islice(stream, count))


def iter_order_events(
    seed: int,
    *,
    customers: int = 10,
    open_orders: int = 8,
    namespace: str = "",
) -> Iterator[OrderEvent]:
    """An endless seeded stream of events; orders open when it is cut off stay open.

    `namespace` prefixes order ids and is mixed into event ids, so two runs with the same
    seed on the same topics and Redis do not collide.
    """
    rng = random.Random(f"{namespace}:{seed}")
    open_: list[_Order] = []
    opened = 0
    while True:
        if len(open_) < open_orders and (not open_ or rng.random() < 0.35):
            opened += 1
            order = _Order(
                order_id=f"{namespace}o-{opened:05d}",
                customer=f"c-{rng.randrange(customers):02d}",
                remaining_updates=rng.randint(0, 3),
                ends_paid=rng.random() < 0.75,
            )
            open_.append(order)
        else:
            order = rng.choice(open_)
        kind = _next_type(order)
        order.version += 1
        if kind in ("created", "updated"):
            order.total = rng.randrange(500, 20_000)
        if kind == "updated":
            order.remaining_updates -= 1
        if kind in ("paid", "cancelled"):
            open_.remove(order)
        yield OrderEvent(
            event_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            type=kind,
            order_id=order.order_id,
            version=order.version,
            customer=order.customer,
            status={"created": "open", "updated": "open"}.get(kind, kind),
            total=order.total,
            amount=order.total if kind == "paid" else None,
        )


def _next_type(order: _Order) -> EventType:
    if order.version == 0:
        return "created"
    if order.remaining_updates > 0:
        return "updated"
    return "paid" if order.ends_paid else "cancelled"


class Sink(Protocol):
    async def send(self, event: OrderEvent) -> None: ...


class WebhookError(DemoError):
    """The webhook refused an event (`status`) or did not answer (`status` None)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status

    @property
    def retriable(self) -> bool:
        # 404: the automation has not registered its webhook yet (n8n answered it for the
        # first 25 events of a demo on a loaded machine, seconds after its health webhook
        # answered); webhook senders retry any non-2xx, so the outside world does too.
        return self.status is None or self.status >= 500 or self.status == 404


@dataclass(frozen=True)
class WebhookAnswer:
    status: int
    body: dict[str, object]


def post_event(
    url: str, event: OrderEvent, *, traceparent: str | None = None, timeout_s: float = 10
) -> WebhookAnswer:
    """One blocking POST of an event; raises `WebhookError` unless the answer is 2xx."""
    headers = {"content-type": "application/json"}
    if traceparent:
        headers["traceparent"] = traceparent
    request = urllib.request.Request(url, data=event.to_json(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return WebhookAnswer(response.status, json.loads(response.read() or b"{}"))
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")[:200]
        raise WebhookError(f"{redact_url(url)} answered {exc.code}: {detail}", exc.code) from exc
    except (urllib.error.URLError, OSError) as exc:
        raise WebhookError(f"{redact_url(url)} did not answer: {redact_text(str(exc))}") from exc


RETRY_NOT_FOUND_S = 1.0


class WebhookSink:
    """POSTs each event to the automation's webhook, starting a trace when tracing is on."""

    def __init__(
        self, url: str, *, tracer_provider: trace.TracerProvider | None = None, retries: int = 2
    ) -> None:
        self.url = url
        self.retries = retries
        self._tracer = (tracer_provider or trace.NoOpTracerProvider()).get_tracer(
            "chaosbus_demo.traffic"
        )

    async def send(self, event: OrderEvent) -> None:
        with self._tracer.start_as_current_span(
            "traffic POST /orders", kind=SpanKind.CLIENT, attributes={"order.id": event.order_id}
        ):
            carrier: dict[str, str] = {}
            _PROPAGATOR.inject(carrier)
            # A webhook caller retries what failed, as the outside world does; a retry after
            # a lost answer is a genuine duplicate, which is the point of the demo.
            for attempt in range(self.retries + 1):
                try:
                    await asyncio.to_thread(
                        post_event, self.url, event, traceparent=carrier.get("traceparent")
                    )
                    return
                except WebhookError as exc:
                    if attempt == self.retries or not exc.retriable:
                        raise
                    if exc.status == 404:
                        # Not there yet: a moment for the automation, not an instant retry.
                        await asyncio.sleep(RETRY_NOT_FOUND_S * (attempt + 1))


class KafkaSink:
    """Produces each event to the source topic as the Node-RED flow would."""

    def __init__(self, kafka: KafkaSettings, topic: str) -> None:
        self.kafka = kafka
        self.topic = topic
        self._producer: AIOKafkaProducer | None = None

    async def __aenter__(self) -> KafkaSink:
        self._producer = AIOKafkaProducer(
            **self.kafka.client_options(), enable_idempotence=True, linger_ms=5
        )
        await self._producer.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._producer is not None:
            await self._producer.stop()

    async def send(self, event: OrderEvent) -> None:
        if self._producer is None:
            raise RuntimeError("use the sink as `async with KafkaSink(...)`")
        carrier: dict[str, str] = {}
        _PROPAGATOR.inject(carrier)
        headers = [(EVENT_ID_HEADER, event.event_id.encode())]
        headers += [(name, value.encode()) for name, value in carrier.items()]
        await self._producer.send_and_wait(
            self.topic, value=event.to_json(), key=event.order_id.encode(), headers=headers
        )


@dataclass
class TrafficReport:
    sent: int = 0
    failed: int = 0
    by_type: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)


def _schedule(rate: float) -> Iterator[float]:
    step = 1.0 / rate
    i = 0
    while True:
        yield i * step
        i += 1


async def play(
    events: Iterable[OrderEvent],
    sink: Sink,
    *,
    rate: float,
    stop: asyncio.Event | None = None,
    alive_file: Path | None = None,
) -> TrafficReport:
    """Send events in order at `rate` per second (never faster; slower if the sink lags).

    `alive_file`, when given, is touched after every attempt, for a container healthcheck.
    """
    if rate <= 0:
        raise ValueError("rate must be positive")
    report = TrafficReport()
    loop = asyncio.get_running_loop()
    start = loop.time()
    for event, offset in zip(events, _schedule(rate), strict=False):
        if stop is not None and stop.is_set():
            break
        delay = start + offset - loop.time()
        if delay > 0:
            # Pacing, not synchronisation: a steady rate is what the outside world does.
            await asyncio.sleep(delay)
        try:
            await sink.send(event)
        except WebhookError as exc:
            report.failed += 1
            if len(report.errors) < 10:
                report.errors.append(str(exc))
            continue
        finally:
            if alive_file is not None:
                mark_alive(alive_file)
        report.sent += 1
        report.by_type[event.type] += 1
    return report


cli = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


@cli.command()
def main(
    webhook: str | None = typer.Option(None, "--webhook", help="URL of POST /orders."),
    topic: str | None = typer.Option(None, "--topic", help="Produce here instead (no webhook)."),
    bootstrap: Bootstrap = None,
    kafka_config: KafkaConfig = None,
    rate: float = typer.Option(20.0, "--rate", help="Events per second."),
    count: int = typer.Option(200, "--count", help="Number of events; 0 plays until stopped."),
    seed: int = typer.Option(1, "--seed", help="Seed of the generated orders."),
    namespace: str | None = typer.Option(
        None, "--namespace", help="Prefix of order ids (default: one per start, from the clock)."
    ),
    alive_file: Path | None = typer.Option(None, "--alive-file", help="Touched per event."),
) -> None:
    """Play order traffic to the webhook, or straight to a topic, until done or SIGTERM."""
    if (webhook is None) == (topic is None):
        raise typer.BadParameter("give exactly one of --webhook and --topic")
    if namespace is None:
        namespace = f"r{int(time.time())}-"
    typer.echo(f"traffic: seed {seed}, namespace {namespace!r}, {rate} events/s", err=True)
    stream = iter_order_events(seed, namespace=namespace)
    events = itertools.islice(stream, count) if count > 0 else stream
    kafka = resolve_kafka(bootstrap, kafka_config)
    report = asyncio.run(_play_cli(events, webhook, topic, kafka, rate, alive_file))
    typer.echo(json.dumps({"sent": report.sent, "failed": report.failed, **report.by_type}))
    for error in report.errors:
        typer.echo(error, err=True)
    if report.failed:
        raise typer.Exit(1)


async def _play_cli(
    events: Iterable[OrderEvent],
    webhook: str | None,
    topic: str | None,
    kafka: KafkaSettings,
    rate: float,
    alive_file: Path | None,
) -> TrafficReport:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    providers = providers_from_environment(service_name="traffic")
    try:
        if topic is not None:
            async with KafkaSink(kafka, topic) as sink:
                return await play(events, sink, rate=rate, stop=stop, alive_file=alive_file)
        webhook_sink = WebhookSink(webhook or "", tracer_provider=providers.tracer)
        return await play(events, webhook_sink, rate=rate, stop=stop, alive_file=alive_file)
    finally:
        providers.shutdown()


if __name__ == "__main__":
    cli()
