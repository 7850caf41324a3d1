"""`chaosbus kill`: engage the global kill switch (chaosbus.control.operations)."""

from __future__ import annotations

import asyncio

import typer

from chaosbus.commands.options import Actor, ControlRedis, Reason
from chaosbus.commands.shell import one_line_errors
from chaosbus.control import operations
from chaosbus.control.audit import default_actor
from chaosbus.settings import resolve_redis


@one_line_errors
def kill(
    redis: ControlRedis = None,
    actor: Actor = None,
    reason: Reason = None,
) -> None:
    """Engage the global kill switch: every proxy and run stops injecting within 1 s.

    Any operator may engage it; only an admin releases it (`chaosbus unkill`)."""
    who = actor or default_actor()
    state = asyncio.run(operations.kill(resolve_redis(redis), who, reason))
    typer.echo(state.describe())
