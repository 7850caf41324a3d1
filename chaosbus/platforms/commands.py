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
