"""The `chaosbus` command line. Each command is a thin shell over a module of its own.

Exit codes (ARCHITECTURE §4): 0 hypothesis held / success, 1 hypothesis violated,
2 invalid input (file, flags, unreachable broker, missing prerequisite), 3 aborted.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import ParamSpec, TypeVar

import typer

from chaosbus.control import commands as control_commands
from chaosbus.control.audit import default_actor
from chaosbus.errors import EXIT_INVALID, ChaosbusError
from chaosbus.experiment.loader import load_experiment
from chaosbus.local.stack import LocalStack
from chaosbus.proxy_command import build_proxy, run_proxy
from chaosbus.report.markdown import to_markdown
from chaosbus.report.write import write_report
from chaosbus.runner.check_window import check_window
from chaosbus.runner.command import dry_run_lines, run_with_console
from chaosbus.runner.run import RunOptions
from chaosbus.scenarios import load_experiment_or_scenario, scenario, scenario_names
from chaosbus.scenarios.starter import starter_experiment
from chaosbus.settings import resolve_bootstrap, resolve_redis

P = ParamSpec("P")
R = TypeVar("R")

app = typer.Typer(
    name="chaosbus",
    help="Event-stream chaos for async integrations.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
local_app = typer.Typer(
    help="A real Kafka (KRaft) and redis-server on loopback.", no_args_is_help=True
)
app.add_typer(local_app, name="local")


def fail(message: str, code: int = EXIT_INVALID) -> typer.Exit:
    typer.echo(f"chaosbus: {message}", err=True)
    return typer.Exit(code)


def one_line_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn every ChaosbusError into one line on stderr and its documented exit code."""

    @wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except ChaosbusError as exc:
            raise fail(str(exc), exc.exit_code) from exc

    return wrapper


@local_app.command("up")
@one_line_errors
def local_up() -> None:
    """Start Kafka and Redis (resolving the Kafka jars with Maven on first use)."""
    status = LocalStack.default().up()
    for line in status.lines():
        typer.echo(line)


@local_app.command("down")
@one_line_errors
def local_down() -> None:
    """Stop the local Kafka and Redis."""
    for line in LocalStack.default().down().lines():
        typer.echo(line)


@local_app.command("status")
@one_line_errors
def local_status(
    env: bool = typer.Option(False, "--env", help="Print shell exports of the addresses."),
) -> None:
    """Show whether the local stack runs, and its addresses."""
    status = LocalStack.default().status()
    if env:
        typer.echo(f"export CHAOSBUS_BOOTSTRAP={status.bootstrap}")
        typer.echo(f"export CHAOSBUS_REDIS={status.redis_url}")
        return
    for line in status.lines():
        typer.echo(line)
    if not (status.kafka_running and status.redis_running):
        raise typer.Exit(1)


@app.command("proxy")
@one_line_errors
def proxy(
    route: list[str] = typer.Option(
        [], "--route", help="SOURCE:DESTINATION[@ID], repeatable; ID pins the decisions' key."
    ),
    bootstrap: str | None = typer.Option(None, "--bootstrap", help="Kafka HOST:PORT."),
    fault: Path | None = typer.Option(None, "--fault", help="Fault file (YAML) for every route."),
    seed: int | None = typer.Option(None, "--seed", help="Seed of every fault decision."),
    group: str = typer.Option("chaosbus.proxy", "--group", help="Consumer group of replicas."),
    run_id: str | None = typer.Option(None, "--run-id", help="Run id in ledger records."),
    create_topics: bool = typer.Option(
        False, "--create-topics", help="Create missing destinations."
    ),
    ledger: bool = typer.Option(True, "--ledger/--no-ledger", help="Write chaosbus.ledger."),
    start_from: str = typer.Option(
        "earliest", "--from", help="earliest or latest, for a new group."
    ),
    event_id_header: str | None = typer.Option(
        None, "--event-id-header", help="Header naming the event id."
    ),
    status_every: float = typer.Option(5.0, "--status-every", help="Seconds between status lines."),
    redis: str | None = typer.Option(None, "--redis", help="Control plane (kill switch) URL."),
    delivery: str = typer.Option(
        "at-least-once", "--delivery", help="at-least-once or exactly-once (transactions)."
    ),
    on_undeliverable: str = typer.Option(
        "fail",
        "--on-undeliverable",
        help="A message the destination refuses: fail (exit 2) or dead_letter:TOPIC.",
    ),
) -> None:
    """Interpose on topics until SIGTERM/SIGINT, then drain, commit and exit 0.

    With --fault, the kill switch on Redis gates injection: engaged, or Redis unreachable,
    the proxy stops injecting, releases what it holds and keeps forwarding.
    """
    built = build_proxy(
        routes=route,
        bootstrap=resolve_bootstrap(bootstrap),
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
        on_undeliverable=on_undeliverable,
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    typer.echo(
        f"chaosbus proxy: run {built.config.run_id}, routes "
        + ", ".join(r.name for r in built.routes),
        err=True,
    )
    control_url = resolve_redis(redis) if fault is not None else None
    report = asyncio.run(run_proxy(built, control_url=control_url))
    typer.echo(
        "chaosbus proxy: stopped; "
        + ", ".join(f"{k}={v}" for k, v in sorted(report.counts.items())),
        err=True,
    )


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


# ---- experiments, the control plane and the audit log (issue 5) ----------------------------


EXPERIMENT_HELP = "Experiment file (YAML), or the name of a shipped scenario."


@app.command("validate")
@one_line_errors
def validate(file: str = typer.Argument(..., help=EXPERIMENT_HELP)) -> None:
    """Check an experiment file; one line per problem, exit 2 if any. Connects to nothing."""
    spec = load_experiment_or_scenario(file)
    typer.echo(f"{file}: valid experiment {spec.name!r} ({len(spec.faults)} faults)")


scenarios_app = typer.Typer(
    help="The shipped scenario library.", invoke_without_command=True, no_args_is_help=False
)
app.add_typer(scenarios_app, name="scenarios")


@scenarios_app.callback()
def scenarios_list(context: typer.Context) -> None:
    """List the shipped scenarios with their hypotheses (`chaosbus run NAME` runs one)."""
    if context.invoked_subcommand is not None:
        return
    for name in scenario_names():
        spec = load_experiment_or_scenario(name)
        typer.echo(f"{name}\n    {spec.hypothesis}")


@scenarios_app.command("show")
@one_line_errors
def scenarios_show(
    name: str = typer.Argument(..., help="A name from `chaosbus scenarios`."),
) -> None:
    """Print one shipped scenario's file, to read or to copy and edit."""
    typer.echo(scenario(name).text, nl=False)


@app.command("init")
@one_line_errors
def init(
    path: Path = typer.Argument(Path("experiment.yaml"), help="Where to write the starter."),
    source: str = typer.Option("orders.nocode", "--from", help="Topic the automation writes."),
    destination: str = typer.Option("orders", "--to", help="Topic the service reads."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Write a starter experiment to edit: one route, one duplicate fault, one entity check."""
    if path.exists() and not force:
        raise fail(f"{path} exists (pass --force to overwrite it)")
    path.write_text(starter_experiment(source, destination), encoding="utf-8")
    load_experiment(path)  # the starter must itself be valid
    typer.echo(f"wrote {path}; check it with: chaosbus validate {path}")


@app.command("run")
@one_line_errors
def run(
    file: str = typer.Argument(..., help=EXPERIMENT_HELP),
    dry_run: bool = typer.Option(False, "--dry-run", help="Preflight and targeting only."),
    report: Path | None = typer.Option(None, "--report", help="Write PATH (JSON), .md, .html."),
    bootstrap: str | None = typer.Option(None, "--bootstrap", help="Kafka HOST:PORT."),
    redis: str | None = typer.Option(None, "--redis", help="Redis URL of the control plane."),
    actor: str | None = typer.Option(None, "--actor", help="Who runs it (default: OS user)."),
    key_prefix: str = typer.Option("", "--key-prefix", help="Put before every probe key."),
) -> None:
    """Run an experiment: exit 0 held, 1 violated, 2 invalid input, 3 aborted."""
    spec = load_experiment_or_scenario(file)
    options = RunOptions(
        bootstrap=resolve_bootstrap(bootstrap),
        redis_url=resolve_redis(redis),
        actor=actor or default_actor(),
        key_prefix=key_prefix,
    )
    if dry_run:
        for line in asyncio.run(dry_run_lines(spec, options)):
            typer.echo(line)
        return
    outcome = asyncio.run(run_with_console(spec, options))
    if report is not None:
        for written in write_report(outcome, report):
            typer.echo(f"report: {written}", err=True)
    raise typer.Exit(outcome.exit_code)


@app.command("kill")
@one_line_errors
def kill(
    redis: str | None = typer.Option(None, "--redis", help="Redis URL of the control plane."),
    actor: str | None = typer.Option(None, "--actor", help="Who (default: OS user)."),
    reason: str | None = typer.Option(None, "--reason", help="Why, for the audit log."),
) -> None:
    """Engage the global kill switch: every proxy and run stops injecting within 1 s."""
    who = actor or default_actor()
    state = asyncio.run(control_commands.kill(resolve_redis(redis), who, reason))
    typer.echo(state.describe())


@app.command("unkill")
@one_line_errors
def unkill(
    redis: str | None = typer.Option(None, "--redis", help="Redis URL of the control plane."),
    actor: str | None = typer.Option(None, "--actor", help="Who (default: OS user)."),
) -> None:
    """Release the kill switch."""
    was = asyncio.run(control_commands.unkill(resolve_redis(redis), actor or default_actor()))
    typer.echo("kill switch released" if was else "kill switch was not engaged")


@app.command("audit")
@one_line_errors
def audit(
    redis: str | None = typer.Option(None, "--redis", help="Redis URL of the control plane."),
    limit: int = typer.Option(50, "--limit", help="How many of the latest entries."),
) -> None:
    """Print the audit log (start, abort, kill, unkill, verdict), oldest first."""
    for entry in asyncio.run(control_commands.audit_log(resolve_redis(redis), limit)):
        typer.echo(entry.line())


@app.command("check")
@one_line_errors
def check_command(
    file: str = typer.Argument(..., help=EXPERIMENT_HELP),
    run_id: str = typer.Option(..., "--run-id", help="The run whose window is judged."),
    report: Path | None = typer.Option(None, "--report", help="Write PATH (JSON), .md, .html."),
    bootstrap: str | None = typer.Option(None, "--bootstrap", help="Kafka HOST:PORT."),
    redis: str | None = typer.Option(None, "--redis", help="Redis URL the probes read."),
    key_prefix: str = typer.Option("", "--key-prefix", help="Put before every probe key."),
) -> None:
    """Judge a recorded run after the fact: exit 0 no anomaly, 1 any, 2 invalid input."""
    spec = load_experiment_or_scenario(file)
    outcome = asyncio.run(
        check_window(
            spec,
            bootstrap=resolve_bootstrap(bootstrap),
            redis_url=resolve_redis(redis),
            run_id=run_id,
            key_prefix=key_prefix,
            actor=default_actor(),
        )
    )
    typer.echo(to_markdown(outcome))
    if report is not None:
        for written in write_report(outcome, report):
            typer.echo(f"report: {written}", err=True)
    raise typer.Exit(outcome.exit_code)


# ---- the demo (issue 6) ------------------------------------------------------------------


@app.command("demo")
@one_line_errors
def demo(
    bootstrap: str | None = typer.Option(
        None, "--bootstrap", envvar="CHAOSBUS_BOOTSTRAP", help="Kafka HOST:PORT (with --redis)."
    ),
    redis: str | None = typer.Option(
        None, "--redis", envvar="CHAOSBUS_REDIS", help="Redis URL (with --bootstrap)."
    ),
    out: Path = typer.Option(Path("demo-out"), "--out", help="Directory of the reports."),
) -> None:
    """Node-RED, a naive and a safe service, two experiments, a verdict each.

    Without --bootstrap/--redis it uses the local stack, starting it (and stopping it at the
    end) when it is down. Exit 0 when the naive service is caught and the safe one holds,
    1 when not (and why), 2 invalid input or a missing prerequisite, 3 interrupted.
    """
    # Imported here: the demo pulls in Node-RED, services and traffic, which no other
    # command needs at start-up.
    from chaosbus_demo.command import demo_command
    from chaosbus_demo.run import DemoOptions

    options = DemoOptions(bootstrap=bootstrap, redis_url=redis, out=out)
    raise typer.Exit(demo_command(options))
