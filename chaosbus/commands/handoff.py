"""`chaosbus handoff LOG --topic SRC`: the automation's own losses, judged from its request
log and the source topic (chaosbus.platforms.handoff)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from chaosbus.commands.options import (
    Bootstrap,
    KafkaConfig,
    LoggedRoute,
    PublishedTopic,
    SenderPlatform,
)
from chaosbus.commands.shell import one_line_errors
from chaosbus.commands.values import json_field
from chaosbus.monitors.extractors import ExtractorConfig
from chaosbus.settings import resolve_kafka


@one_line_errors
def handoff(
    log_path: Annotated[
        Path,
        typer.Argument(
            help="The request log of `chaosbus http` in front of the automation's webhook."
        ),
    ],
    topic: PublishedTopic,
    route: LoggedRoute = None,
    event_id_json: str = typer.Option(
        "$.event_id", "--event-id-json", help="JSON path of the event id in a message."
    ),
    entity_json: str | None = typer.Option(
        None, "--entity-json", help="JSON path of the record a message is about (default: key)."
    ),
    version_json: str | None = typer.Option(
        None, "--version-json", help="JSON path of the record's version (default: offset)."
    ),
    platform: SenderPlatform = None,
    bootstrap: Bootstrap = None,
    kafka_config: KafkaConfig = None,
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
