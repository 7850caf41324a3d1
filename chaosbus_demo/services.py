"""The two demo services: Kafka consumers of the interposed topic that keep a ledger in Redis.

- `ledger-naive` adds every payment it receives and overwrites an order with the last
  message: a duplicated payment counts twice, a late old version overwrites a newer one.
  It reads leniently (`read_leniently`): a corrupted or drifted copy it can half read is
  applied like any event.
- `ledger-safe` deduplicates by event id, applies only newer versions and keeps tombstones,
  all atomically in Redis (`chaosbus_demo.ledgers`). It refuses (counts as `unparsable`
  and skips) any value that is not exactly an order event, and never stops on one.

Each is a consumer group of its own (`ledger-naive`, `ledger-safe`) that commits after
applying, i.e. at least once, like most real services. Options give the monitors more to
read, and tests a service to break:

- `store="postgres"` keeps the state in PostgreSQL (`chaosbus_demo.sql_ledgers`, a schema
  named after the prefix) instead of Redis;
- `effects_topic` produces one message per effect (`event_id`, `order_id`, `customer`,
  `outcome`), as services that emit "order-applied" events do;
- `http_port` serves a read-only HTTP view of the state (`chaosbus_demo.state_http`);
- `hang_on` names an event id the service blocks on forever without committing: a stuck
  consumer, for the monitors' consumer-group lag;
- `apply_delay_ms` makes every event wait that long before it is applied: a correct but
  slower release, whose recovery takes longer (what a regression gate catches).

::

    async with LedgerService(ServiceConfig(kind="safe", topic="orders", ...)) as service:
        await service.run(stop_event)

or as a process: `python -m chaosbus_demo.services --kind safe --topic orders --bootstrap
HOST:PORT --redis redis://HOST:PORT/0 --prefix safe:` (`--postgres DSN`, `--effects-topic`,
`--http-port` for the options above; addresses also from
CHAOSBUS_BOOTSTRAP / CHAOSBUS_REDIS; traces go out over OTLP when
OTEL_EXPORTER_OTLP_ENDPOINT is set, continuing each message's `traceparent`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import psycopg
import typer
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from opentelemetry import trace
from opentelemetry.propagators.textmap import Getter
from opentelemetry.trace import SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from redis.asyncio import Redis
from redis.exceptions import RedisError

from chaosbus.clients.connection import KafkaSettings
from chaosbus.clients.errors import RedisUrlError
from chaosbus.clients.redis_client import describe_failure, redis_client
from chaosbus.commands.options import Bootstrap, KafkaConfig
from chaosbus.errors import ChaosbusError, InvalidInput, Unreachable
from chaosbus.observability import providers_from_environment
from chaosbus.settings import resolve_kafka, resolve_redis
from chaosbus_demo.events import BadEvent, OrderEvent, parse_event, read_leniently
from chaosbus_demo.health import mark_alive
from chaosbus_demo.ledgers import Ledger, NaiveLedger, SafeLedger
from chaosbus_demo.sql_ledgers import NaiveSqlLedger, SafeSqlLedger, schema_name
from chaosbus_demo.state_http import StateHttp

Kind = Literal["naive", "safe"]
KINDS: tuple[Kind, ...] = ("naive", "safe")
log = logging.getLogger("chaosbus_demo.services")


@dataclass(frozen=True, kw_only=True)
class ServiceConfig:
    """`prefix` and `group_id` default to `{kind}:` and `ledger-{kind}`.

    `alive_file`, when given, is touched on every poll: a container healthcheck reads its age
    (`python -m chaosbus_demo.health file PATH`).
    """

    kind: Kind
    topic: str
    kafka: KafkaSettings
    redis_url: str = field(repr=False)  # may carry a password
    prefix: str | None = None
    group_id: str | None = None
    start_from: Literal["earliest", "latest"] = "earliest"
    seen_ttl_s: float | None = None
    alive_file: Path | None = None
    store: Literal["redis", "postgres"] = "redis"
    postgres_dsn: str | None = None
    effects_topic: str | None = None
    http_port: int | None = None  # 0: any free port (see `LedgerService.http_url`)
    hang_on: str | None = None
    apply_delay_ms: float = 0.0  # a slow release: waits this long before each event

    @property
    def name(self) -> str:
        return f"ledger-{self.kind}"

    @property
    def key_prefix(self) -> str:
        return f"{self.kind}:" if self.prefix is None else self.prefix

    @property
    def group(self) -> str:
        return self.group_id or self.name

    @property
    def schema(self) -> str:
        """The PostgreSQL schema of `store="postgres"`."""
        return schema_name(self.key_prefix)


class _HeaderGetter(Getter[Sequence[tuple[str, bytes]]]):
    def get(self, carrier: Sequence[tuple[str, bytes]], key: str) -> list[str] | None:
        found = [value.decode("latin-1") for name, value in carrier if name == key]
        return found or None

    def keys(self, carrier: Sequence[tuple[str, bytes]]) -> list[str]:
        return [name for name, _ in carrier]


_PROPAGATOR = TraceContextTextMapPropagator()
_GETTER = _HeaderGetter()


class LedgerService:
    """One service instance: an async context manager around its consumer and Redis client."""

    def __init__(
        self, config: ServiceConfig, *, tracer_provider: trace.TracerProvider | None = None
    ) -> None:
        self.config = config
        self.outcomes: Counter[str] = Counter()
        self.processed = 0
        self.committed = 0
        self._progress = asyncio.Condition()
        self._tracer = (tracer_provider or trace.NoOpTracerProvider()).get_tracer("chaosbus_demo")
        self._redis: Redis | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None
        self._unsent: list[asyncio.Future[Any]] = []
        self._stack = AsyncExitStack()
        self._stop = asyncio.Event()
        self.http: StateHttp | None = None
        self.ledger: Ledger | None = None
        self._parse: Callable[[bytes | None], OrderEvent] = (
            read_leniently if config.kind == "naive" else parse_event
        )

    async def __aenter__(self) -> LedgerService:
        try:
            await self._open(self._stack)
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def _open(self, stack: AsyncExitStack) -> None:
        config = self.config
        if config.store == "postgres":
            if config.postgres_dsn is None:
                raise ValueError("store='postgres' needs postgres_dsn")
            conn = await psycopg.AsyncConnection.connect(config.postgres_dsn)
            stack.push_async_callback(conn.close)
            cls = NaiveSqlLedger if config.kind == "naive" else SafeSqlLedger
            sql_ledger = cls(conn, config.schema)
            await sql_ledger.create()
            self.ledger = sql_ledger
        else:
            try:
                self._redis = redis_client(config.redis_url)
            except RedisUrlError as exc:
                raise InvalidInput(str(exc)) from exc
            stack.push_async_callback(self._redis.aclose)
            try:
                await self._redis.ping()
            except (RedisError, OSError) as exc:
                raise Unreachable(describe_failure(config.redis_url, exc)) from exc
            self.ledger = (
                NaiveLedger(self._redis, config.key_prefix)
                if config.kind == "naive"
                else SafeLedger(self._redis, config.key_prefix, seen_ttl_s=config.seen_ttl_s)
            )
        if config.effects_topic is not None:
            # Idempotent: a producer retry under load must not write one effect twice, which
            # would read as the service applying an event twice.
            self._producer = AIOKafkaProducer(
                **config.kafka.client_options(), linger_ms=5, enable_idempotence=True
            )
            await self._producer.start()
            stack.push_async_callback(self._producer.stop)
        if config.http_port is not None:
            self.http = await stack.enter_async_context(StateHttp(self.ledger, config.http_port))
        self._consumer = AIOKafkaConsumer(
            config.topic,
            **config.kafka.client_options(),
            group_id=config.group,
            client_id=config.name,
            enable_auto_commit=False,
            auto_offset_reset=config.start_from,
            isolation_level="read_committed",
        )
        await self._consumer.start()
        stack.push_async_callback(self._consumer.stop)
        # aiokafka 0.14 re-raises CancelledError from stop() when its background task has not
        # taken its first step yet; one loop turn lets it begin (runs before the stop above).
        stack.push_async_callback(asyncio.sleep, 0)

    async def __aexit__(self, *_: object) -> None:
        await self._stack.aclose()

    @property
    def http_url(self) -> str:
        if self.http is None:
            raise RuntimeError("the service serves no HTTP view (http_port not set)")
        return self.http.url

    async def run(self, stop: asyncio.Event) -> Counter[str]:
        """Consume and apply until `stop` is set; returns the outcomes by name."""
        if self._consumer is None or self.ledger is None:
            raise RuntimeError("use the service as `async with LedgerService(...)`")
        self._stop = stop
        while not stop.is_set():
            batches = await self._consumer.getmany(timeout_ms=200, max_records=500)
            if self.config.alive_file is not None:
                mark_alive(self.config.alive_file)
            for records in batches.values():
                for record in records:
                    await self._handle(self.ledger, record.value, list(record.headers or ()))
                    if stop.is_set():
                        return self.outcomes  # stopped while hanging: nothing committed
            if batches:
                # Effects are sent before the offsets that caused them are committed.
                await self._flush_effects()
                await self._consumer.commit()
                async with self._progress:
                    self.committed = self.processed
                    self._progress.notify_all()
        return self.outcomes

    async def wait_processed(self, count: int, *, timeout_s: float) -> int:
        """Wait until at least `count` records were applied and committed; returns how many."""

        async def reached() -> None:
            async with self._progress:
                await self._progress.wait_for(lambda: self.committed >= count)

        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(reached(), timeout_s)
        return self.committed

    async def _handle(
        self, ledger: Ledger, value: bytes | None, headers: list[tuple[str, bytes]]
    ) -> None:
        parent = _PROPAGATOR.extract(headers, getter=_GETTER)
        with self._tracer.start_as_current_span(
            f"{self.config.name} apply", context=parent, kind=SpanKind.CONSUMER
        ) as span:
            try:
                event = self._parse(value)
            except BadEvent as exc:
                log.warning("%s: skipping a record: %s", self.config.name, exc)
                self.outcomes["unparsable"] += 1
                self.processed += 1
                return
            if event.event_id == self.config.hang_on:
                log.warning("%s: hanging on event %s", self.config.name, event.event_id)
                await self._stop.wait()
                return
            if self.config.apply_delay_ms:
                await asyncio.sleep(self.config.apply_delay_ms / 1000)
            outcome = await ledger.apply(event)
            if self._producer is not None and outcome != "duplicate":
                await self._emit_effect(event, outcome)
            span.set_attributes(
                {
                    "messaging.destination.name": self.config.topic,
                    "order.id": event.order_id,
                    "order.event_id": event.event_id,
                    "order.version": event.version,
                    "ledger.outcome": outcome,
                }
            )
        self.outcomes[outcome] += 1
        self.processed += 1


    async def _emit_effect(self, event: OrderEvent, outcome: str) -> None:
        topic, producer = self.config.effects_topic, self._producer
        if topic is None or producer is None:
            return
        effect = {
            "event_id": event.event_id,
            "order_id": event.order_id,
            "customer": event.customer,
            "outcome": outcome,
        }
        sent = await producer.send(
            topic, value=json.dumps(effect).encode(), key=event.order_id.encode()
        )
        self._unsent.append(sent)

    async def _flush_effects(self) -> None:
        pending, self._unsent = self._unsent, []
        if pending:
            await asyncio.gather(*pending)


async def serve(config: ServiceConfig) -> Counter[str]:
    """Run one service until SIGTERM or SIGINT, with tracing from the environment."""
    providers = providers_from_environment(service_name=config.name)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with LedgerService(config, tracer_provider=providers.tracer) as service:
            log.info("%s: %s into prefix %r", config.name, config.topic, config.key_prefix)
            return await service.run(stop)
    finally:
        providers.shutdown()


cli = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


@cli.command()
def main(
    kind: str = typer.Option(..., "--kind", help="naive or safe."),
    topic: str = typer.Option("orders", "--topic", help="The interposed topic to consume."),
    bootstrap: Bootstrap = None,
    kafka_config: KafkaConfig = None,
    redis: str | None = typer.Option(None, "--redis", help="Redis URL."),
    prefix: str | None = typer.Option(None, "--prefix", help="Key prefix (default KIND:)."),
    group: str | None = typer.Option(None, "--group", help="Consumer group (ledger-KIND)."),
    alive_file: Path | None = typer.Option(None, "--alive-file", help="Touched on every poll."),
    postgres: str | None = typer.Option(
        None, "--postgres", help="Keep the state in this PostgreSQL (DSN) instead of Redis."
    ),
    effects_topic: str | None = typer.Option(
        None, "--effects-topic", help="Produce one message per effect to this topic."
    ),
    http_port: int | None = typer.Option(
        None, "--http-port", help="Serve a read-only HTTP view of the state on this port."
    ),
) -> None:
    """Run ledger-naive or ledger-safe until SIGTERM/SIGINT."""
    if kind not in KINDS:
        raise typer.BadParameter("naive or safe", param_hint="--kind")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    config = ServiceConfig(
        kind="naive" if kind == "naive" else "safe",
        topic=topic,
        kafka=resolve_kafka(bootstrap, kafka_config),
        redis_url=resolve_redis(redis),
        prefix=prefix,
        group_id=group,
        alive_file=alive_file,
        store="postgres" if postgres else "redis",
        postgres_dsn=postgres,
        effects_topic=effects_topic,
        http_port=http_port,
    )
    try:
        outcomes: dict[str, Any] = dict(asyncio.run(serve(config)))
    except ChaosbusError as exc:  # a refused password, a Redis that does not answer
        typer.echo(f"{config.name}: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from exc
    typer.echo(f"{config.name}: stopped; {outcomes}", err=True)


if __name__ == "__main__":
    cli()
