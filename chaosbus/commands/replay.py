"""`chaosbus replay`: a recording written to a topic, at its own pace or another."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from chaosbus.clients.connection import KafkaSettings
from chaosbus.commands import values
from chaosbus.commands.options import Bootstrap, KafkaConfig, ReplayDestination
from chaosbus.commands.shell import one_line_errors
from chaosbus.errors import InvalidInput
from chaosbus.settings import resolve_kafka
from chaosbus.signals import stop_on_signals
from chaosbus.traffic.file_format import read_meta
from chaosbus.traffic.pacing import IdShifter, Pace, parse_rate, parse_speed
from chaosbus.traffic.replayer import ReplayOptions, ReplayResult, file_records, replay
from chaosbus.traffic.selectors import Selector, parse_selectors


@one_line_errors
def replay_command(
    file: Annotated[Path, typer.Argument(help="A recording (chaosbus record or generate).")],
    to: ReplayDestination,
    speed: str | None = typer.Option(
        None, "--speed", help="x1 (the recorded pace, default), x10, x0.5, or max."
    ),
    rate: str | None = typer.Option(None, "--rate", help="A fixed rate instead: 500/s."),
    loop: bool = typer.Option(False, "--loop", help="Start over at the end (until a signal)."),
    duration: str | None = typer.Option(
        None, "--duration", help="Stop after this long: 30s, 10m (a bound for --loop)."
    ),
    shift_ids: bool = typer.Option(
        False, "--shift-ids", help="Fresh ids every replay and lap (the file's hashed fields)."
    ),
    id_fields: list[str] = typer.Option(
        [], "--id-fields", help="The ids --shift-ids renews: key, header:NAME, $.path (a,b)."
    ),
    create_topic: bool = typer.Option(
        False, "--create-topic", help="Create a missing topic with the recording's partitions."
    ),
    partitions: int | None = typer.Option(
        None, "--partitions", min=1, help="With --create-topic: instead of the recording's (1)."
    ),
    bootstrap: Bootstrap = None,
    kafka_config: KafkaConfig = None,
) -> None:
    """Write a recording to a topic, per-key order kept: exit 0, or 2 bad input.

    Keys keep their partition when the topic has as many as the recording, else the key hash
    places them. --shift-ids gives every replay (and every --loop lap) fresh event and entity
    ids, consistently, so a second replay is new traffic, not duplicates.
    """
    meta = read_meta(file)
    pace = _pace(speed, rate)
    shift = _shifter(meta, id_fields) if shift_ids else None
    if id_fields and not shift_ids:
        raise InvalidInput("--id-fields names the ids --shift-ids renews: pass --shift-ids")
    settings = ReplayOptions(
        topic=to,
        pace=pace,
        loop=loop,
        max_duration_s=None if duration is None else values.seconds("--duration", duration),
        shift=shift,
        create_topic=create_topic,
    )
    recorded = meta.get("source", {}).get("partitions")
    kafka = resolve_kafka(bootstrap, kafka_config)
    result = asyncio.run(_replay(kafka, file, settings, recorded, partitions))
    typer.echo(
        f"replayed {result.sent} messages of {file} to {to!r} in {result.elapsed_s:.1f} s "
        f"({pace.describe()}, {result.laps} lap{'s' if result.laps != 1 else ''}"
        + (f", ended by {result.ended_by}" if result.ended_by != "end" else "")
        + ")"
    )


async def _replay(
    kafka: KafkaSettings,
    file: Path,
    settings: ReplayOptions,
    recorded: int | None,
    create_with: int | None,
) -> ReplayResult:
    stop = asyncio.Event()
    with stop_on_signals(stop):
        return await replay(
            kafka,
            file_records(file),
            settings,
            source_partitions=recorded,
            create_partitions=create_with,
            stop=stop,
        )


def _pace(speed: str | None, rate: str | None) -> Pace:
    if speed is not None and rate is not None:
        raise InvalidInput("--speed and --rate: give one")
    try:
        if rate is not None:
            return Pace(speed=None, rate=parse_rate(rate))
        return Pace(speed=parse_speed(speed or "x1"))
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc


def _shifter(meta: dict[str, object], id_fields: list[str]) -> IdShifter:
    fields: tuple[Selector, ...] = values.fields("--id-fields", id_fields)
    if not fields:
        privacy = meta.get("privacy")
        hashed = privacy.get("hashed", []) if isinstance(privacy, dict) else []
        fields = parse_selectors(str(h) for h in hashed)
    if not fields:
        raise InvalidInput(
            "--shift-ids: the recording hashed no field; name the ids with "
            "--id-fields key,$.event_id,…"
        )
    return IdShifter(fields)
