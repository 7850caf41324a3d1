"""The platform commands' bodies: `chaosbus handoff` and `chaosbus horizon`.

Plain typer functions, registered by `chaosbus/cli.py` (which turns a `ChaosbusError` into
one line and its exit code); the work lives in `handoff.py` and `horizon/`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer
from pydantic import ValidationError

from chaosbus.errors import InvalidInput
from chaosbus.monitors.extractors import ExtractorConfig, JsonField
from chaosbus.settings import resolve_kafka

KAFKA_CONFIG_HELP = "Kafka client properties file (SASL, TLS); or CHAOSBUS_KAFKA_CONFIG."


def json_field(flag: str, path: str) -> JsonField:
    try:
        return JsonField.model_validate({"json": path})
    except ValidationError as exc:
        reason = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise InvalidInput(f"{flag} {path!r}: {reason}") from exc


def handoff(
    log_path: Path = typer.Argument(
        ..., help="The request log of `chaosbus http` in front of the automation's webhook."
    ),
    topic: str = typer.Option(..., "--topic", help="The source topic the automation publishes."),
    route: str | None = typer.Option(None, "--route", help="Only this route of the log."),
    event_id_json: str = typer.Option(
        "$.event_id", "--event-id-json", help="JSON path of the event id in a message."
    ),
    entity_json: str | None = typer.Option(
        None, "--entity-json", help="JSON path of the record a message is about (default: key)."
    ),
    version_json: str | None = typer.Option(
        None, "--version-json", help="JSON path of the record's version (default: offset)."
    ),
    platform: str | None = typer.Option(
        None, "--platform", help="The automation's platform, for the cause (e.g. n8n)."
    ),
    bootstrap: str | None = typer.Option(None, "--bootstrap", help="Kafka HOST:PORT."),
    kafka_config: Path | None = typer.Option(None, "--kafka-config", help=KAFKA_CONFIG_HELP),
) -> None:
    """Events the automation accepted (2xx) and never published, and records it reordered.

    Exit 0 none, 1 any, 2 invalid input (unreadable log, unreachable broker, no event ids).
    """
    from chaosbus.platforms.handoff import handoff as judge
    from chaosbus.platforms.handoff import verdict_lines

    extract = ExtractorConfig(
        event_id=json_field("--event-id-json", event_id_json),
        entity="record_key" if entity_json is None else json_field("--entity-json", entity_json),
        version=None if version_json is None else json_field("--version-json", version_json),
    )
    verdict, unparsable = asyncio.run(
        judge(
            log_path,
            resolve_kafka(bootstrap, kafka_config),
            topic,
            extract=extract,
            route=route,
            platform=platform,
        )
    )
    for line in verdict_lines(verdict, unparsable, platform):
        typer.echo(line)
    raise typer.Exit(1 if verdict.findings else 0)


def platform_scenario_lines(platform: str) -> list[str]:
    """`chaosbus scenarios --platform NAME`: its scenarios, hypotheses and cited facts."""
    from chaosbus.platforms.profile import profile
    from chaosbus.platforms.scenarios import platform_scenarios
    from chaosbus.scenarios import load_experiment_or_scenario

    found = profile(platform)  # an unknown platform: one line, exit 2
    lines: list[str] = []
    for name, owner in platform_scenarios().items():
        if owner != found.name:
            continue
        spec = load_experiment_or_scenario(name)
        lines += [name, f"    {spec.hypothesis}"]
        lines += [f"    {line}" for line in (spec.description or "").splitlines()]
    unconfirmed = found.unconfirmed()
    if unconfirmed:
        lines.append(f"    not confirmed from a public source: {', '.join(unconfirmed)}")
    return lines


def horizon(
    file: str = typer.Argument(..., help="Experiment file (YAML) or a shipped scenario's name."),
    check: str | None = typer.Option(
        None, "--check", help="The `once` check reading the service's effects."
    ),
    min_delay: float = typer.Option(0.25, "--min-delay", help="Shortest delay tried, seconds."),
    max_delay: float = typer.Option(60.0, "--max-delay", help="Longest delay tried, seconds."),
    precision: float = typer.Option(0.25, "--precision", help="Stop below this width, seconds."),
    samples: int = typer.Option(1, "--samples", help="Events replayed per delay and partition."),
    points: int = typer.Option(4, "--points", help="Delays per refining round."),
    rounds: int = typer.Option(6, "--rounds", help="At most this many runs."),
    inject_s: float = typer.Option(5.0, "--inject-s", help="Injection per round, seconds."),
    platform: list[str] = typer.Option(
        [], "--platform", help="Compare with this platform's re-deliveries; repeatable."
    ),
    bootstrap: str | None = typer.Option(None, "--bootstrap", help="Kafka HOST:PORT."),
    kafka_config: Path | None = typer.Option(None, "--kafka-config", help=KAFKA_CONFIG_HELP),
    redis: str | None = typer.Option(None, "--redis", help="Redis URL of the control plane."),
    key_prefix: str = typer.Option("", "--key-prefix", help="Put before every probe key."),
) -> None:
    """Measure how late a copy may arrive and still be recognised (the dedup horizon).

    Exit 0 measured; 1 the service applies twice a copy one of the named platforms sends;
    2 invalid input (bounds, no once check, unreachable broker); 3 a round was aborted.
    """
    from chaosbus.control.audit import default_actor
    from chaosbus.platforms.horizon import HorizonPlan, measure
    from chaosbus.platforms.profile import profile
    from chaosbus.runner import RunOptions
    from chaosbus.scenarios import load_experiment_or_scenario
    from chaosbus.settings import resolve_redis

    profiles = [profile(name) for name in platform]  # unknown names refused first
    plan = HorizonPlan(
        check=check,
        min_delay_ms=round(min_delay * 1000),
        max_delay_ms=round(max_delay * 1000),
        precision_ms=round(precision * 1000),
        samples=samples,
        points=points,
        max_rounds=rounds,
        inject_s=inject_s,
    )
    problems = plan.problems()
    if problems:
        raise InvalidInput("; ".join(problems))
    spec = load_experiment_or_scenario(file)
    options = RunOptions(
        kafka=resolve_kafka(bootstrap, kafka_config),
        redis_url=resolve_redis(redis),
        actor=default_actor(),
        key_prefix=key_prefix,
        label=file,
    )
    result = asyncio.run(measure(spec, options, plan, say=lambda line: typer.echo(line, err=True)))
    for line in result.lines(profiles):
        typer.echo(line)
    failed = result.bracket.failed_ms
    late = [p for p in profiles if failed is not None and p.horizon_s * 1000 >= failed]
    raise typer.Exit(1 if late else 0)


def map_command(
    files: list[str] = typer.Argument(
        None,
        help="Experiment files (or scenario names) whose routes, HTTP routes and probes to add.",
    ),
    out: Path | None = typer.Option(None, "--out", help="Write the map as one HTML page here."),
    sample_s: float = typer.Option(
        2.0, "--sample-s", min=0.0, help="Seconds between two lag samples (0: one sample)."
    ),
    bootstrap: str | None = typer.Option(None, "--bootstrap", help="Kafka HOST:PORT."),
    kafka_config: Path | None = typer.Option(None, "--kafka-config", help=KAFKA_CONFIG_HELP),
) -> None:
    """Draw the handoffs: automations → topics → interposers → topics → services → stores.

    Prints the text form; --out writes the HTML page (SVG inline, offline). Exit 0 drawn
    (also when parts could not be read: they are named), 2 invalid input or no broker.
    """
    from chaosbus.map.cluster import read_cluster
    from chaosbus.map.graph import build_graph
    from chaosbus.map.render import to_html, to_text
    from chaosbus.scenarios import load_experiment_or_scenario

    specs = [load_experiment_or_scenario(f) for f in files or []]  # bad files refused first
    kafka = resolve_kafka(bootstrap, kafka_config)
    view = asyncio.run(read_cluster(kafka, sample_s=sample_s))
    graph = build_graph(view, specs)
    title = f"chaosbus map of {view.bootstrap}"
    page = to_html(graph, title) if out is not None else None  # `dot` missing: exit 2 first
    typer.echo(to_text(graph, title), nl=False)
    if out is not None and page is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(page, encoding="utf-8")
        typer.echo(f"map: {out}", err=True)
