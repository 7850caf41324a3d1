"""`chaosbus unkill`: release the kill switch (chaosbus.control.operations)."""

from __future__ import annotations

import asyncio

import typer

from chaosbus.commands.options import Actor, ControlRedis
from chaosbus.commands.shell import one_line_errors
from chaosbus.control import operations
from chaosbus.control.audit import default_actor
from chaosbus.settings import resolve_redis


@one_line_errors
def unkill(redis: ControlRedis = None, actor: Actor = None) -> None:
    """Release the kill switch (admin role; audited in the same transaction)."""
    was = asyncio.run(operations.unkill(resolve_redis(redis), actor or default_actor()))
    typer.echo("kill switch released" if was else "kill switch was not engaged")
