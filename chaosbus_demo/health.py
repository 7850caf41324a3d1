"""Container healthchecks for the demo's processes, which serve no HTTP of their own.

python -m chaosbus_demo.health file /tmp/alive --max-age 15
    0 when the file was touched within the last 15 s (services and traffic touch it
    on every poll or event: `--alive-file`)
python -m chaosbus_demo.health group chaosbus.proxy --bootstrap kafka:9092
    0 when the consumer group is Stable with at least one member (the proxy joined)
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import typer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from chaosbus.clients.connection import KafkaSettings
from chaosbus.commands.options import Bootstrap, KafkaConfig
from chaosbus.settings import resolve_kafka


def mark_alive(path: Path) -> None:
    """Touch the liveness file (a metadata write of a few microseconds on a local disk)."""
    path.touch()


def file_is_fresh(path: Path, max_age_s: float) -> bool:
    try:
        return time.time() - path.stat().st_mtime <= max_age_s
    except FileNotFoundError:
        return False


async def group_is_stable(kafka: KafkaSettings, group: str, *, timeout_s: float = 5) -> bool:
    admin = AIOKafkaAdminClient(**kafka.client_options(), request_timeout_ms=int(timeout_s * 1000))
    try:
        await asyncio.wait_for(admin.start(), timeout_s)
        responses = await asyncio.wait_for(admin.describe_consumer_groups([group]), timeout_s)
    except (KafkaError, OSError, TimeoutError):
        return False
    finally:
        await admin.close()
    for response in responses:
        for described in response.groups:
            # DescribeGroups v0+: (error_code, group_id, state, protocol_type, protocol,
            # members, ...), the same leading fields in every version.
            error_code, group_id, state, _, _, members = described[:6]
            if group_id == group and error_code == 0 and state == "Stable" and members:
                return True
    return False


cli = typer.Typer(add_completion=False, pretty_exceptions_enable=False, no_args_is_help=True)


@cli.command("file")
def file_check(
    path: Path = typer.Argument(..., help="The liveness file."),
    max_age: float = typer.Option(15.0, "--max-age", help="Seconds since the last touch."),
) -> None:
    """Healthy when PATH was touched within --max-age seconds."""
    if not file_is_fresh(path, max_age):
        typer.echo(f"{path} not touched in the last {max_age:g} s", err=True)
        raise typer.Exit(1)


@cli.command("group")
def group_check(
    group: str = typer.Argument(..., help="Consumer group id."),
    bootstrap: Bootstrap = None,
    kafka_config: KafkaConfig = None,
) -> None:
    """Healthy when the consumer group is Stable with at least one member."""
    if not asyncio.run(group_is_stable(resolve_kafka(bootstrap, kafka_config), group)):
        typer.echo(f"consumer group {group} is not Stable with members", err=True)
        raise typer.Exit(1)


if __name__ == "__main__":
    cli()
