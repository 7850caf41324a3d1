"""`chaosbus record`: a window of a topic into a recording file, read-only."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer

from chaosbus.clients.connection import KafkaSettings
from chaosbus.commands import values
from chaosbus.commands.options import (
    Bootstrap,
    Count,
    Force,
    KafkaConfig,
    ReadTimeout,
    RecordedTopic,
    RecordingOut,
    Window,
)
from chaosbus.commands.shell import one_line_errors
from chaosbus.experiment.spec import ExperimentSpec
from chaosbus.monitors.extractors import HeaderField, JsonField
from chaosbus.scenarios import load_experiment_or_scenario
from chaosbus.settings import resolve_kafka
from chaosbus.signals import stop_on_signals
from chaosbus.traffic.privacy import Anonymiser, PrivacyPolicy, load_hash_key
from chaosbus.traffic.recorder import (
    DEFAULT_MAX_COUNT,
    RecordOptions,
    RecordResult,
    record_topic,
)
from chaosbus.traffic.selectors import Selector, parse_selector


@one_line_errors
def record(
    source: RecordedTopic,
    out: RecordingOut,
    window: Window = None,
    count: Count = DEFAULT_MAX_COUNT,
    max_bytes: str = typer.Option("1GiB", "--max-bytes", help="At most this many bytes."),
    timeout: ReadTimeout = "10m",
    hash_fields: list[str] = typer.Option(
        [], "--hash-fields", help="Replace by keyed hashes: key, header:NAME, $.path (a,b)."
    ),
    drop_fields: list[str] = typer.Option(
        [], "--drop-fields", help="Leave out: header:NAME, $.path (comma-separated)."
    ),
    hash_key_file: Path | None = typer.Option(
        None, "--hash-key-file", help="The hashing key, ≥ 16 bytes; or CHAOSBUS_HASH_KEY."
    ),
    experiment: str | None = typer.Option(
        None,
        "--experiment",
        help="Its `privacy: hashed` hashes the key and the ids and entities its checks read.",
    ),
    force: Force = False,
    bootstrap: Bootstrap = None,
    kafka_config: KafkaConfig = None,
) -> None:
    """Record a window of a topic: no consumer group, no commit; exit 0, or 2 bad input.

    The window ends now (the end offsets when it starts) and begins --window ago, or at the
    oldest retained message; --count, --max-bytes and --timeout bound it. Hashing without a
    key is refused before anything is read.
    """
    values.new_file(out, force)
    hashed = values.fields("--hash-fields", hash_fields)
    if experiment is not None:
        hashed = _union(hashed, experiment_identifiers(load_experiment_or_scenario(experiment)))
    policy = PrivacyPolicy(hashed, values.fields("--drop-fields", drop_fields))
    anonymiser = Anonymiser(policy, load_hash_key(hash_key_file) if policy.hash else None)
    settings = RecordOptions(
        topic=source,
        out=out,
        window_s=None if window is None else values.seconds("--window", window),
        max_count=count,
        max_bytes=values.size("--max-bytes", max_bytes),
        timeout_s=values.seconds("--timeout", timeout),
    )
    result = asyncio.run(_record(resolve_kafka(bootstrap, kafka_config), settings, anonymiser))
    for line in summary(result, settings, policy):
        typer.echo(line)


async def _record(
    kafka: KafkaSettings, settings: RecordOptions, anonymiser: Anonymiser
) -> RecordResult:
    stop = asyncio.Event()
    with stop_on_signals(stop):
        return await record_topic(kafka, settings, anonymiser, stop=stop)


def experiment_identifiers(spec: ExperimentSpec) -> tuple[Selector, ...]:
    """What `privacy: hashed` hides in a recording: the key, and each check's event id and
    JSON entity. Other copies of an identifier in the payload must be named by hand (the
    recorder refuses to write one it finds in clear)."""
    if spec.privacy.identifiers != "hashed":
        return ()
    found = [parse_selector("key")]
    for check in spec.monitor.checks:
        for extractor in (check.extract.event_id, check.extract.entity):
            if isinstance(extractor, JsonField):
                found.append(parse_selector(extractor.json_path))
            elif isinstance(extractor, HeaderField):
                found.append(parse_selector(f"header:{extractor.header}"))
    return _union((), tuple(found))


def _union(a: tuple[Selector, ...], b: tuple[Selector, ...]) -> tuple[Selector, ...]:
    return tuple(dict.fromkeys((*a, *b)))


def summary(result: RecordResult, settings: RecordOptions, policy: PrivacyPolicy) -> list[str]:
    end = result.end
    if end.records == 0 and not end.skipped:
        return [f"the window of {settings.topic!r} holds no message: wrote an empty {settings.out}"]
    lines = [
        f"recorded {end.records} messages ({end.bytes} bytes) of {settings.topic!r} "
        f"({result.partitions} partitions) to {settings.out}"
    ]
    if end.ended_by != "end":
        lines.append(f"stopped early by the {end.ended_by} bound; the file holds what was read")
    if policy.hash:
        counts = ", ".join(f"{name} {n}" for name, n in sorted(result.hashed.items()))
        lines.append(f"hashed: {counts or 'nothing matched'}")
    for reason, n in sorted(end.skipped.items()):
        lines.append(f"skipped {n} messages: {reason} (their fields cannot be hashed)")
    return lines
