"""`chaosbus demo`: Node-RED, a naive and a safe service, two experiments (chaosbus_demo)."""

from __future__ import annotations

from pathlib import Path

import typer

from chaosbus.commands.options import (
    Bootstrap,
    History,
    KafkaConfig,
    Labels,
    LogFormatOption,
    NoHistory,
    ReportsDir,
    RunRedis,
)
from chaosbus.commands.recording import program_of
from chaosbus.commands.shell import one_line_errors
from chaosbus.logs import log_format
from chaosbus.settings import given_bootstrap, given_redis


@one_line_errors
def demo(
    bootstrap: Bootstrap = None,
    redis: RunRedis = None,
    kafka_config: KafkaConfig = None,
    out: ReportsDir = Path("demo-out"),
    log_format_name: LogFormatOption = "text",
    label: Labels = None,
    history: History = None,
    no_history: NoHistory = False,
) -> None:
    """Node-RED, a naive and a safe service, two experiments, a verdict each.

    Without --bootstrap/--redis it uses the local stack, starting it (and stopping it at the
    end) when it is down. Exit 0 when the naive service is caught and the safe one holds,
    1 when not (and why), 2 invalid input or a missing prerequisite, 3 interrupted.
    Each verdict is recorded in the history (service=ledger-naive / ledger-safe).
    """
    fmt = log_format(log_format_name)
    program = program_of(history=history, no_history=no_history, labels=label, origin="demo")
    # Imported here: the demo pulls in Node-RED, services and traffic, which no other
    # command needs at start-up.
    from chaosbus_demo.command import demo_command
    from chaosbus_demo.run import DemoOptions

    # Only an address given by flag or environment replaces the local stack, so these are
    # `given_*`, not `resolve_*` (which would fall back to the local stack's address).
    options = DemoOptions(
        bootstrap=given_bootstrap(bootstrap),
        redis_url=given_redis(redis),
        kafka_config=kafka_config,
        out=out,
        log_format=fmt,
    )
    raise typer.Exit(demo_command(options, program))
