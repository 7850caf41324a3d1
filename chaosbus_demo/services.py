"""The two demo services: Kafka consumers of the interposed topic that keep a ledger in Redis.

- `ledger-naive` adds every payment it receives and overwrites an order with the last
  message: a duplicated payment counts twice, a late old version overwrites a newer one.
  It reads leniently (`read_leniently`): a corrupted or drifted copy it can half read is
  applied like any event.
- `ledger-safe` deduplicates by event id, applies only newer versions and keeps tombstones,
  all atomically in Redis (`chaosbus_demo.ledgers`). It refuses (counts as `unparsable`
  and skips) any value that is not exactly an order event, and never stops on one.

Each is a consumer group of its own (`ledger-naive`, `ledger-safe`) that commits after
applying, i.e. at least once, like most real services::

    async with LedgerService(ServiceConfig(kind="safe", topic="orders", ...)) as service:
        await service.run(stop_event)

or as a process: `python -m chaosbus_demo.services --kind safe --topic orders --bootstrap
HOST:PORT --redis redis://HOST:PORT/0 --prefix safe:` (addresses also from
CHAOSBUS_BOOTSTRAP / CHAOSBUS_REDIS; traces go out over OTLP when
OTEL_EXPORTER_OTLP_ENDPOINT is set, continuing each message's `traceparent`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import typer
from aiokafka import AIOKafkaConsumer
from opentelemetry import trace
from opentelemetry.propagators.textmap import Getter
from opentelemetry.trace import SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from redis.asyncio import Redis
from redis.exceptions import RedisError

from chaosbus.errors import ChaosbusError, InvalidInput, Unreachable
from chaosbus.observability import providers_from_environment
from chaosbus.settings import resolve_kafka, resolve_redis
from chaosbus_demo.events import BadEvent, OrderEvent, parse_event, read_leniently
from chaosbus_demo.health import mark_alive
from chaosbus_demo.ledgers import Ledger, NaiveLedger, SafeLedger
from streams.connection import KafkaSettings
from streams.redis_client import RedisUrlError, describe_failure, redis_client

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

    @property
    def name(self) -> str:
        return f"ledger-{self.kind}"

    @property
    def key_prefix(self) -> str:
        return f"{self.kind}:" if self.prefix is None else self.prefix

    @property
    def group(self) -> str:
        return self.group_id or self.name


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
        self.ledger: Ledger | None = None
        self._parse: Callable[[bytes | None], OrderEvent] = (
            read_leniently if config.kind == "naive" else parse_event
        )

    async def __aenter__(self) -> LedgerService:
        config = self.config
        try:
            self._redis = redis_client(config.redis_url)
        except RedisUrlError as exc:
            raise InvalidInput(str(exc)) from exc
        try:
            try:
                await self._redis.ping()
            except (RedisError, OSError) as exc:
                raise Unreachable(describe_failure(config.redis_url, exc)) from exc
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
        except BaseException:
            await self._redis.aclose()
            raise
        self.ledger = (
            NaiveLedger(self._redis, config.key_prefix)
            if config.kind == "naive"
            else SafeLedger(self._redis, config.key_prefix, seen_ttl_s=config.seen_ttl_s)
        )
        return self

    async def __aexit__(self, *_: object) -> None:
        # aiokafka 0.14 re-raises CancelledError from stop() when its background task has not
        # taken its first step yet; one loop turn lets it begin.
        await asyncio.sleep(0)
        try:
            if self._consumer is not None:
                await self._consumer.stop()
        finally:
            if self._redis is not None:
                await self._redis.aclose()

    async def run(self, stop: asyncio.Event) -> Counter[str]:
        """Consume and apply until `stop` is set; returns the outcomes by name."""
        if self._consumer is None or self.ledger is None:
            raise RuntimeError("use the service as `async with LedgerService(...)`")
        while not stop.is_set():
            batches = await self._consumer.getmany(timeout_ms=200, max_records=500)
            if self.config.alive_file is not None:
                mark_alive(self.config.alive_file)
            for records in batches.values():
                for record in records:
                    await self._handle(self.ledger, record.value, list(record.headers or ()))
            if batches:
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
            outcome = await ledger.apply(event)
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
    bootstrap: str | None = typer.Option(None, "--bootstrap", help="Kafka HOST:PORT."),
    kafka_config: Path | None = typer.Option(
        None, "--kafka-config", help="Kafka client properties (SASL, TLS)."
    ),
    redis: str | None = typer.Option(None, "--redis", help="Redis URL."),
    prefix: str | None = typer.Option(None, "--prefix", help="Key prefix (default KIND:)."),
    group: str | None = typer.Option(None, "--group", help="Consumer group (ledger-KIND)."),
    alive_file: Path | None = typer.Option(None, "--alive-file", help="Touched on every poll."),
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
    )
    try:
        outcomes: dict[str, Any] = dict(asyncio.run(serve(config)))
    except ChaosbusError as exc:  # a refused password, a Redis that does not answer
        typer.echo(f"{config.name}: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from exc
    typer.echo(f"{config.name}: stopped; {outcomes}", err=True)


if __name__ == "__main__":
    cli()
