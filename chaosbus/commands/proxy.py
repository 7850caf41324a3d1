"""`chaosbus proxy`: the interposer alone (chaosbus.standalone.topics), until a signal."""

from __future__ import annotations

import asyncio
import logging
import sys

import typer

from chaosbus.commands.options import (
    Bootstrap,
    ControlRedis,
    CreateTopics,
    KafkaConfig,
    LogFormatOption,
    Metrics,
    ProxyRoutes,
    ProxyRunId,
    ProxyWorkers,
    Seed,
    ShareRoute,
    StartFrom,
    TopicFaultFile,
)
from chaosbus.commands.shell import one_line_errors
from chaosbus.control.audit import default_actor
from chaosbus.errors import InvalidInput
from chaosbus.logs import LogFormat, log_format, process_logging
from chaosbus.observability import providers_from_environment
from chaosbus.settings import resolve_kafka, resolve_redis, resolve_topic_policy
from chaosbus.standalone.topics import build_proxy, new_run_id, run_proxy
from chaosbus.standalone.workers import run_workers, worker_args
from chaosbus.streams.config import DEFAULT_COMMIT_INTERVAL_MS

log = logging.getLogger("chaosbus.proxy")


@one_line_errors
def proxy(
    route: ProxyRoutes = [],  # noqa: B006  # typer reads the default, never mutates it
    bootstrap: Bootstrap = None,
    kafka_config: KafkaConfig = None,
    fault: TopicFaultFile = None,
    seed: Seed = None,
    group: str = typer.Option("chaosbus.proxy", "--group", help="Consumer group of replicas."),
    run_id: ProxyRunId = None,
    create_topics: CreateTopics = False,
    ledger: bool = typer.Option(True, "--ledger/--no-ledger", help="Write chaosbus.ledger."),
    start_from: StartFrom = "earliest",
    event_id_header: str | None = typer.Option(
        None, "--event-id-header", help="Header naming the event id."
    ),
    status_every: float = typer.Option(5.0, "--status-every", help="Seconds between status lines."),
    redis: ControlRedis = None,
    delivery: str = typer.Option(
        "at-least-once", "--delivery", help="at-least-once or exactly-once (transactions)."
    ),
    share_route: ShareRoute = False,
    replication_factor: int | None = typer.Option(
        None,
        "--replication-factor",
        help="Replicas of the topics it creates (default: the broker's; env "
        "CHAOSBUS_TOPIC_REPLICATION).",
    ),
    ledger_retention_ms: int | None = typer.Option(
        None,
        "--ledger-retention-ms",
        help="retention.ms of a ledger it creates, -1 forever (default 7 days; env "
        "CHAOSBUS_LEDGER_RETENTION_MS).",
    ),
    min_insync_replicas: int | None = typer.Option(
        None,
        "--min-insync-replicas",
        help="min.insync.replicas of the topics it creates (default: the broker's; env "
        "CHAOSBUS_TOPIC_MIN_INSYNC_REPLICAS).",
    ),
    compression: str = typer.Option(
        "none", "--compression", help="What it produces with: none, gzip, snappy, lz4, zstd."
    ),
    on_undeliverable: str = typer.Option(
        "fail",
        "--on-undeliverable",
        help="A message the destination refuses: fail (exit 2) or dead_letter:TOPIC.",
    ),
    commit_interval_ms: int = typer.Option(
        DEFAULT_COMMIT_INTERVAL_MS,
        "--commit-interval-ms",
        help="At-least-once: ms between source offset commits, the re-delivery window.",
    ),
    metrics: Metrics = None,
    log_format_name: LogFormatOption = "text",
    workers: ProxyWorkers = 1,
) -> None:
    """Interpose on topics until SIGTERM/SIGINT, then drain, commit and exit 0.

    With --fault, the kill switch on Redis gates injection: engaged, or Redis unreachable,
    the proxy stops injecting, releases what it holds and keeps forwarding. With --fault,
    Redis must answer at start and take the audit entry, else exit 2. With --fault, the
    scoped switches (`chaosbus pause`) gate it too.

    With --workers N, N such processes share the consumer group (and one run id) under
    this one, which restarts a worker that dies and merges their status lines.
    """
    fmt = log_format(log_format_name)
    if workers > 1:
        supervise(workers, run_id or new_run_id(), fmt, status_every, metrics)
        return
    kafka = resolve_kafka(bootstrap, kafka_config)
    topics = resolve_topic_policy(replication_factor, ledger_retention_ms, min_insync_replicas)
    control_url = resolve_redis(redis) if fault is not None else None
    providers = providers_from_environment(metrics=metrics)
    try:
        built = build_proxy(
            routes=route,
            kafka=kafka,
            group_id=group,
            run_id=run_id,
            create_topics=create_topics,
            ledger=ledger,
            start_from=start_from,
            fault_file=fault,
            seed=seed,
            event_id_header=event_id_header,
            status_every_s=status_every,
            delivery=delivery,
            topics=topics,
            compression=compression,
            on_undeliverable=on_undeliverable,
            commit_interval_ms=commit_interval_ms,
            providers=providers,
        )
        with process_logging(fmt):
            say(
                fmt,
                f"chaosbus proxy: run {built.config.run_id}, routes "
                + ", ".join(r.name for r in built.routes),
            )
            report = asyncio.run(
                run_proxy(
                    built,
                    control_url=control_url,
                    share_route=share_route,
                    fault_label=None if fault is None else str(fault),
                    actor=default_actor(),
                    providers=providers,
                )
            )
            counts = ", ".join(f"{k}={v}" for k, v in sorted(report.counts.items()))
            say(fmt, f"chaosbus proxy: stopped; {counts}")
    finally:
        providers.shutdown()


def supervise(
    workers: int, run_id: str, fmt: LogFormat, status_every: float, metrics: str | None
) -> None:
    """Run `workers` proxies of these same arguments (`standalone.workers`); exit as they do."""
    if metrics is not None:
        # Each worker would bind the same port: one endpoint per process is not served yet.
        raise InvalidInput("--metrics serves one process; run it without --workers")
    command = [sys.executable, "-m", "chaosbus", *worker_args(sys.argv[1:], run_id)]
    with process_logging(fmt):
        say(fmt, f"chaosbus proxy: run {run_id}, {workers} workers")
        code = asyncio.run(run_workers(command, workers, status_every_s=status_every))
    if code:
        raise typer.Exit(code)


def say(fmt: LogFormat, line: str) -> None:
    """A line for the operator on stderr; a log record when every line must be JSON."""
    if fmt == "json":
        log.info("%s", line)
    else:
        typer.echo(line, err=True)
