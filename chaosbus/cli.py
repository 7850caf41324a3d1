"""The `chaosbus` command line. Each command is a thin shell over a module of its own.

Exit codes (ARCHITECTURE §4): 0 hypothesis held / success, 1 hypothesis violated,
2 invalid input (file, flags, unreachable broker, missing prerequisite), 3 aborted,
4 inconclusive (`run` and `check`: less than `monitor.min_judged_share`, 95 % by default,
of the source events could be judged; §4 lists 0-3 and is to gain 4).
"""

from __future__ import annotations

import asyncio
import logging
import re
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import ParamSpec, TypeVar

import typer

from chaosbus.control import commands as control_commands
from chaosbus.control.acl import default_users, parse_user, setuser_commands
from chaosbus.control.approvals import content_sha256
from chaosbus.control.audit import default_actor
from chaosbus.control.cli_support import apply_acl, show_approvals, sign_off
from chaosbus.errors import EXIT_INVALID, ChaosbusError
from chaosbus.experiment.governance import AREA_PATTERN
from chaosbus.experiment.loader import load_experiment
from chaosbus.experiment.sides import describe_sides, reaim_http, request_log_beside
from chaosbus.local.stack import LocalStack
from chaosbus.proxy_command import build_proxy, load_fault_file_or_fail, run_proxy
from chaosbus.report.markdown import to_markdown
from chaosbus.report.write import write_report
from chaosbus.runner.check_window import check_window
from chaosbus.runner.command import dry_run_lines, run_with_console
from chaosbus.runner.run import RunOptions
from chaosbus.scenarios import (
    experiment_content,
    load_experiment_or_scenario,
    scenario,
    scenario_names,
)
from chaosbus.scenarios.starter import starter_experiment
from chaosbus.settings import resolve_kafka, resolve_redis, resolve_topic_policy
from chaosbus.streams.config import DEFAULT_COMMIT_INTERVAL_MS
from chaosbus.traffic.commands import fidelity, generate, record, replay
from chaosbus.traffic.commands.init_from_recording import write_from_recording

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


KAFKA_CONFIG_HELP = "Kafka client properties file (SASL, TLS); or CHAOSBUS_KAFKA_CONFIG."


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
def local_up(
    secure: bool = typer.Option(
        False, "--secure", help="Add a SASL_SSL listener (SCRAM user, generated certificates)."
    ),
    brokers: int | None = typer.Option(
        None,
        "--brokers",
        help="Kafka nodes (default 1, or as many as the running stack has): 3 starts a KRaft "
        "cluster (replication 3, min.insync.replicas 2) on consecutive ports from "
        "CHAOSBUS_KAFKA_PORT.",
    ),
    postgres: bool = typer.Option(
        True, "--postgres/--no-postgres", help="Start PostgreSQL too (when installed)."
    ),
) -> None:
    """Start Kafka, Redis and PostgreSQL (resolving the Kafka jars with Maven on first use)."""
    status = LocalStack.default(brokers, postgres=postgres).up(secure=secure)
    for line in status.lines():
        typer.echo(line)


@local_app.command("down")
@one_line_errors
def local_down() -> None:
    """Stop the local Kafka, Redis and PostgreSQL."""
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
        for line in status.env_lines():
            typer.echo(line)
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
    kafka_config: Path | None = typer.Option(None, "--kafka-config", help=KAFKA_CONFIG_HELP),
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
    share_route: bool = typer.Option(
        False, "--share-route", help="Run even if another live interposer reads a source."
    ),
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
) -> None:
    """Interpose on topics until SIGTERM/SIGINT, then drain, commit and exit 0.

    With --fault, the kill switch on Redis gates injection: engaged, or Redis unreachable,
    the proxy stops injecting, releases what it holds and keeps forwarding. With --fault,
    Redis must answer at start and take the audit entry, else exit 2.
    """
    built = build_proxy(
        routes=route,
        kafka=resolve_kafka(bootstrap, kafka_config),
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
        topics=resolve_topic_policy(replication_factor, ledger_retention_ms, min_insync_replicas),
        compression=compression,
        on_undeliverable=on_undeliverable,
        commit_interval_ms=commit_interval_ms,
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    typer.echo(
        f"chaosbus proxy: run {built.config.run_id}, routes "
        + ", ".join(r.name for r in built.routes),
        err=True,
    )
    control_url = resolve_redis(redis) if fault is not None else None
    report = asyncio.run(
        run_proxy(
            built,
            control_url=control_url,
            share_route=share_route,
            fault_label=None if fault is None else str(fault),
            actor=default_actor(),
        )
    )
    typer.echo(
        "chaosbus proxy: stopped; "
        + ", ".join(f"{k}={v}" for k, v in sorted(report.counts.items())),
        err=True,
    )


@app.command("http")
@one_line_errors
def http_proxy(
    listen: str = typer.Option("127.0.0.1:8081", "--listen", help="HOST:PORT to serve on."),
    upstream: str = typer.Option(..., "--upstream", help="Base URL of the service."),
    fault: Path | None = typer.Option(None, "--fault", help="HTTP fault file (YAML)."),
    seed: int | None = typer.Option(None, "--seed", help="Seed of every fault decision."),
    log_path: Path | None = typer.Option(None, "--log", help="Request log (JSON lines)."),
    name: str = typer.Option("http", "--name", help="Route name in the log and decisions."),
    id_header: str = typer.Option(
        "Idempotency-Key", "--id-header", help="Header naming the logical request."
    ),
    redis: str | None = typer.Option(None, "--redis", help="Control plane (kill switch) URL."),
) -> None:
    """Reverse proxy in front of a service, with HTTP faults, until SIGTERM/SIGINT.

    The automation calls --listen instead of the service. With --fault, the kill switch
    gates injection as for topics; `chaosbus retries LOG` judges how the automation retried.
    """
    from chaosbus.http_command import HttpProxyOptions, run_http_proxy

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
    plan = asyncio.run(run_http_proxy(options, control_url=control_url))
    typer.echo(
        "chaosbus http: stopped; " + ", ".join(f"{k}={v}" for k, v in sorted(plan.counts.items())),
        err=True,
    )


@app.command("retries")
@one_line_errors
def retries(
    log_path: Path = typer.Argument(..., help="A request log written by `chaosbus http --log`."),
    max_attempts: int = typer.Option(8, "--max-attempts", min=1, help="Bound on attempts."),
    min_backoff: float = typer.Option(
        1.5, "--min-backoff-ratio", min=1.0, help="Least growth of successive gaps."
    ),
    max_storm_rps: float = typer.Option(
        20.0, "--max-storm-rps", min=0.0, help="Most retries per second while failing."
    ),
) -> None:
    """Judge how the automation retried: exit 0 no retry anomaly, 1 any, 2 invalid input."""
    from chaosbus.http_command import retries_verdict, verdict_lines
    from chaosbus.monitors.retries import RetryPolicy

    policy = RetryPolicy(
        max_attempts=max_attempts, min_backoff_ratio=min_backoff, max_storm_rps=max_storm_rps
    )
    verdict = retries_verdict(log_path, policy)
    for line in verdict_lines(verdict):
        typer.echo(line)
    raise typer.Exit(1 if verdict.findings else 0)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


# ---- experiments, the control plane and the audit log (issue 5) ----------------------------


EXPERIMENT_HELP = "Experiment file (YAML), or the name of a shipped scenario."
ACTOR_HELP = "A note beside the actor (default: OS user); the actor is the Redis user."


@app.command("validate")
@one_line_errors
def validate(
    file: str = typer.Argument(..., help=EXPERIMENT_HELP),
    faults: bool = typer.Option(
        False, "--faults", help="FILE is a fault file (for chaosbus proxy --fault)."
    ),
) -> None:
    """Check an experiment file; one line per problem, exit 2 if any. Connects to nothing."""
    if faults:
        fault_file = load_fault_file_or_fail(Path(file))
        typer.echo(f"{file}: valid fault file ({len(fault_file.faults)} faults)")
        return
    spec = load_experiment_or_scenario(file)
    typer.echo(f"{file}: valid experiment {spec.name!r} ({describe_sides(spec)})")


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
    from_recording: Path | None = typer.Option(
        None, "--from-recording", help="Propose extractors and a traffic spec from a recording."
    ),
) -> None:
    """Write a starter experiment to edit: one route, one duplicate fault, one entity check."""
    if from_recording is not None:
        for line in write_from_recording(path, from_recording, source, destination, force):
            typer.echo(line)
        return
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
    kafka_config: Path | None = typer.Option(None, "--kafka-config", help=KAFKA_CONFIG_HELP),
    redis: str | None = typer.Option(None, "--redis", help="Redis URL of the control plane."),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
    key_prefix: str = typer.Option("", "--key-prefix", help="Put before every probe key."),
    share_route: bool = typer.Option(
        False, "--share-route", help="Run even if another live interposer reads a source."
    ),
    http_upstream: str | None = typer.Option(
        None,
        "--http-upstream",
        envvar="CHAOSBUS_HTTP_UPSTREAM",
        help="Service behind the experiment's one HTTP route (default: the file's upstream).",
    ),
    http_listen: str | None = typer.Option(
        None, "--http-listen", help="HOST:PORT of the experiment's one HTTP route."
    ),
) -> None:
    """Run an experiment: exit 0 held, 1 violated, 2 invalid input, 3 aborted, 4 inconclusive.

    Refused (exit 2) while a sign-off the file's `approvals:` requires is missing for its
    exact content, or another live interposer reads a route's source (see --share-route).
    With http_routes and --report PATH, the request log is written to PATH.requests.jsonl.
    """
    content = experiment_content(file)
    spec = reaim_http(load_experiment_or_scenario(file), http_listen, http_upstream)
    options = RunOptions(
        kafka=resolve_kafka(bootstrap, kafka_config),
        redis_url=resolve_redis(redis),
        actor=actor or default_actor(),
        key_prefix=key_prefix,
        content_sha256=content_sha256(content),
        label=file,
        share_route=share_route,
        request_log=request_log_beside(report) if report and spec.http_routes else None,
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
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
    reason: str | None = typer.Option(None, "--reason", help="Why, for the audit log."),
) -> None:
    """Engage the global kill switch: every proxy and run stops injecting within 1 s.

    Any operator may engage it; only an admin releases it (`chaosbus unkill`)."""
    who = actor or default_actor()
    state = asyncio.run(control_commands.kill(resolve_redis(redis), who, reason))
    typer.echo(state.describe())


@app.command("unkill")
@one_line_errors
def unkill(
    redis: str | None = typer.Option(None, "--redis", help="Redis URL of the control plane."),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
) -> None:
    """Release the kill switch (admin role; audited in the same transaction)."""
    was = asyncio.run(control_commands.unkill(resolve_redis(redis), actor or default_actor()))
    typer.echo("kill switch released" if was else "kill switch was not engaged")


@app.command("audit")
@one_line_errors
def audit(
    redis: str | None = typer.Option(None, "--redis", help="Redis URL of the control plane."),
    limit: int = typer.Option(50, "--limit", help="How many of the latest entries."),
    verify: bool = typer.Option(
        False, "--verify", help="Check the hash chain: exit 0 intact, 1 tampered."
    ),
) -> None:
    """Print the audit log (start, stop, abort, kill, unkill, verdict, …), oldest first.

    With --verify, walk the whole hash chain and name every edited, deleted or trimmed
    entry by its position; exit 1 when any, 0 when intact."""
    url = resolve_redis(redis)
    if verify:
        result = asyncio.run(control_commands.verify_audit(url))
        for problem in result.problems:
            typer.echo(f"audit log tampered: {problem}")
        state = "intact" if result.intact else "NOT intact"
        typer.echo(
            f"audit log {state}: {result.held} entries held of {result.added} appended; "
            f"head {result.head}"
        )
        raise typer.Exit(0 if result.intact else 1)
    for entry in asyncio.run(control_commands.audit_log(url, limit)):
        typer.echo(entry.line())


@app.command("approve")
@one_line_errors
def approve_command(
    file: str = typer.Argument(..., help=EXPERIMENT_HELP),
    role: str = typer.Option(..., "--role", help="The area signed for (business, security, …)."),
    redis: str | None = typer.Option(None, "--redis", help="Redis URL of the control plane."),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
) -> None:
    """Sign off FILE for one area, bound to its sha256 and your Redis user (approver role)."""
    content = experiment_content(file)
    spec = load_experiment_or_scenario(file)
    sha = content_sha256(content)
    if not re.fullmatch(AREA_PATTERN, role):
        raise fail(f"--role {role!r}: lower case letters, digits, - or _")
    done = asyncio.run(
        sign_off(resolve_redis(redis), role, sha, spec.name, actor or default_actor())
    )
    typer.echo(f"{file}: {role} signed off by {done.user} for sha256 {sha}")


@app.command("approvals")
@one_line_errors
def approvals_command(
    file: str = typer.Argument(..., help=EXPERIMENT_HELP),
    redis: str | None = typer.Option(None, "--redis", help="Redis URL of the control plane."),
) -> None:
    """Show which required sign-offs FILE has for its exact content: exit 0 all, 1 not."""
    content = experiment_content(file)
    spec = load_experiment_or_scenario(file)
    required = spec.approvals.required if spec.approvals else ()
    state = asyncio.run(show_approvals(resolve_redis(redis), content_sha256(content), required))
    for line in state.lines():
        typer.echo(line)
    if not required:
        typer.echo(f"{file}: no approvals required")
    raise typer.Exit(1 if state.missing else 0)


control_app = typer.Typer(
    help="Set up the control plane (kill switch, roles).", no_args_is_help=True
)
app.add_typer(control_app, name="control")


@control_app.command("init")
@one_line_errors
def control_init(
    redis: str | None = typer.Option(None, "--redis", help="Redis URL of the control plane."),
) -> None:
    """First use: write the released state (admin). Until then every run is refused."""
    done = asyncio.run(control_commands.init(resolve_redis(redis), default_actor()))
    typer.echo(
        "control plane initialised: kill switch released"
        if done
        else "control plane already initialised (an admin releases a kill with `chaosbus unkill`)"
    )


@control_app.command("acl")
@one_line_errors
def control_acl(
    operator: list[str] = typer.Option([], "--operator", help="User NAME, repeatable."),
    approver: list[str] = typer.Option(
        [], "--approver", help="NAME or NAME=AREA,AREA (the areas it may sign), repeatable."
    ),
    admin: list[str] = typer.Option([], "--admin", help="User NAME, repeatable."),
    reader: list[str] = typer.Option([], "--reader", help="User NAME, repeatable."),
    namespace: str = typer.Option("chaosbus", "--namespace", help="Key namespace."),
    apply: bool = typer.Option(False, "--apply", help="Send them (with an admin credential)."),
    redis: str | None = typer.Option(None, "--redis", help="Redis URL (for --apply)."),
) -> None:
    """Print (or --apply) the Redis ACL rules of each role; passwords are set apart.

    Without users, one per role named after it. Set each password with
    `ACL SETUSER NAME >PASSWORD`; connect as a user with redis://NAME:PASSWORD@HOST:PORT/0."""
    users = [
        *(parse_user(n, "operator") for n in operator),
        *(parse_user(n, "approver") for n in approver),
        *(parse_user(n, "admin") for n in admin),
        *(parse_user(n, "reader") for n in reader),
    ] or default_users()
    if apply:
        count = asyncio.run(apply_acl(resolve_redis(redis), users, namespace))
        typer.echo(f"applied the ACL rules of {count} users")
        return
    for command in setuser_commands(users, namespace):
        typer.echo(" ".join(command))


@app.command("check")
@one_line_errors
def check_command(
    file: str = typer.Argument(..., help=EXPERIMENT_HELP),
    run_id: str = typer.Option(..., "--run-id", help="The run whose window is judged."),
    report: Path | None = typer.Option(None, "--report", help="Write PATH (JSON), .md, .html."),
    bootstrap: str | None = typer.Option(None, "--bootstrap", help="Kafka HOST:PORT."),
    kafka_config: Path | None = typer.Option(None, "--kafka-config", help=KAFKA_CONFIG_HELP),
    redis: str | None = typer.Option(None, "--redis", help="Redis URL the probes read."),
    key_prefix: str = typer.Option("", "--key-prefix", help="Put before every probe key."),
) -> None:
    """Judge a recorded run after the fact, as `run` does: exit 0 held, 1 violated,
    2 invalid input or nothing judged, 4 inconclusive."""
    spec = load_experiment_or_scenario(file)
    if not spec.routes:
        raise fail(
            f"{file}: check judges topic routes and {spec.name!r} has none; judge its request "
            "log with `chaosbus retries PATH.requests.jsonl`"
        )
    outcome = asyncio.run(
        check_window(
            spec,
            kafka=resolve_kafka(bootstrap, kafka_config),
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
    kafka_config: Path | None = typer.Option(None, "--kafka-config", help=KAFKA_CONFIG_HELP),
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

    options = DemoOptions(bootstrap=bootstrap, redis_url=redis, kafka_config=kafka_config, out=out)
    raise typer.Exit(demo_command(options))


# Issue 26: traffic recorded, replayed, generated, compared (chaosbus.traffic.commands).
app.command("record")(one_line_errors(record.record))
app.command("replay")(one_line_errors(replay.replay_command))
app.command("generate")(one_line_errors(generate.generate_command))
app.command("fidelity")(one_line_errors(fidelity.fidelity))
