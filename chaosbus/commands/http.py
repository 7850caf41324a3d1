"""`chaosbus http`: the HTTP reverse proxy alone (chaosbus.standalone.http), until a signal."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer

from chaosbus.commands.options import ControlRedis, HttpFaultFile, LogFormatOption, Metrics, Seed
from chaosbus.commands.shell import one_line_errors
from chaosbus.logs import log_format, process_logging
from chaosbus.observability import providers_from_environment
from chaosbus.settings import resolve_redis


@one_line_errors
def http_proxy(
    listen: str = typer.Option("127.0.0.1:8081", "--listen", help="HOST:PORT to serve on."),
    upstream: str = typer.Option(..., "--upstream", help="Base URL of the service."),
    fault: HttpFaultFile = None,
    seed: Seed = None,
    log_path: Path | None = typer.Option(None, "--log", help="Request log (JSON lines)."),
    name: str = typer.Option("http", "--name", help="Route name in the log and decisions."),
    id_header: str = typer.Option(
        "Idempotency-Key", "--id-header", help="Header naming the logical request."
    ),
    redis: ControlRedis = None,
    metrics: Metrics = None,
    log_format_name: LogFormatOption = "text",
) -> None:
    """Reverse proxy in front of a service, with HTTP faults, until SIGTERM/SIGINT.

    The automation calls --listen instead of the service. With --fault, the kill switch
    gates injection as for topics; `chaosbus retries LOG` judges how the automation retried.
    """
    # Imported here: the HTTP side (aiohttp) is not needed by any other command at start-up.
    from chaosbus.standalone.http import HttpProxyOptions, run_http_proxy

    fmt = log_format(log_format_name)

    options = HttpProxyOptions(
        listen=listen,
        upstream=upstream,
        fault_file=fault,
        seed=seed,
        log_path=log_path,
        name=name,
        id_header=id_header,
    )
    control_url = resolve_redis(redis) if fault is not None else None
    providers = providers_from_environment("chaosbus-http", metrics=metrics)
    try:
        with process_logging(fmt):
            plan = asyncio.run(
                run_http_proxy(options, control_url=control_url, providers=providers)
            )
    finally:
        providers.shutdown()
    typer.echo(
        "chaosbus http: stopped; " + ", ".join(f"{k}={v}" for k, v in sorted(plan.counts.items())),
        err=True,
    )
