"""`chaosbus control init|acl`: set up the control plane (chaosbus.control)."""

from __future__ import annotations

import asyncio
import re

import typer

from chaosbus.commands.options import ControlRedis
from chaosbus.commands.shell import fail, one_line_errors
from chaosbus.control import operations
from chaosbus.control.acl import DEFAULT_OFF, default_users, parse_user, setuser_commands
from chaosbus.control.audit import default_actor
from chaosbus.experiment.governance import AREA_PATTERN
from chaosbus.settings import resolve_redis

group = typer.Typer(help="Set up the control plane (kill switch, roles).", no_args_is_help=True)


@group.command("init")
@one_line_errors
def control_init(redis: ControlRedis = None) -> None:
    """First use: write the released state (admin). Until then every run is refused."""
    done = asyncio.run(operations.init(resolve_redis(redis), default_actor()))
    typer.echo(
        "control plane initialised: kill switch released"
        if done
        else "control plane already initialised (an admin releases a kill with `chaosbus unkill`)"
    )


@group.command("require-approvals")
@one_line_errors
def control_require_approvals(
    areas: str = typer.Argument(
        "", help="AREA,AREA every run must have signed; empty: the files alone decide."
    ),
    redis: ControlRedis = None,
) -> None:
    """Set the namespace's policy (admin): every run needs these sign-offs whatever its
    file says, and `proxy --fault`/`http --fault` are refused (a fault file cannot be
    signed)."""
    chosen = tuple(a for a in (x.strip() for x in areas.split(",")) if a)
    for area in chosen:
        if not re.fullmatch(AREA_PATTERN, area):
            raise fail(f"{area!r}: an area is lower case letters, digits, - or _")
    asyncio.run(operations.require_approvals(resolve_redis(redis), chosen))
    typer.echo(
        f"every run now needs sign-off by {', '.join(chosen)}"
        if chosen
        else "approvals: each file decides"
    )


@group.command("acl")
@one_line_errors
def control_acl(
    operator: list[str] = typer.Option([], "--operator", help="User NAME, repeatable."),
    approver: list[str] = typer.Option(
        [], "--approver", help="NAME or NAME=AREA,AREA (the areas it may sign), repeatable."
    ),
    admin: list[str] = typer.Option([], "--admin", help="User NAME, repeatable."),
    reader: list[str] = typer.Option([], "--reader", help="User NAME, repeatable."),
    namespace: str = typer.Option("chaosbus", "--namespace", help="Key namespace."),
    apply: bool = typer.Option(
        False, "--apply", help="Send them to --redis (with an admin credential)."
    ),
    redis: ControlRedis = None,
) -> None:
    """Print (or --apply) the Redis ACL rules of each role, then turn the `default` user
    off; passwords are set apart. --apply also loads the control plane's functions.

    Without users, one per role named after it. Set each password with
    `ACL SETUSER NAME >PASSWORD`; connect as a user with redis://NAME:PASSWORD@HOST:PORT/0."""
    users = [
        *(parse_user(n, "operator") for n in operator),
        *(parse_user(n, "approver") for n in approver),
        *(parse_user(n, "admin") for n in admin),
        *(parse_user(n, "reader") for n in reader),
    ] or default_users()
    if apply:
        done = asyncio.run(operations.apply_acl(resolve_redis(redis), users, namespace))
        typer.echo(
            f"loaded the functions {done.library}; applied the ACL rules of {done.users} users"
        )
        if done.default_off:
            typer.echo("the default user is off: connect as one of these users")
        else:
            typer.echo(
                "WARNING: the default user is still on (you are connected as it): set an "
                "admin's password, connect as that admin and apply again",
                err=True,
            )
        return
    for command in setuser_commands(users, namespace):
        typer.echo(" ".join(command))
    # Last, once an admin with a password exists: the default user is `nopass +@all`.
    typer.echo(" ".join(DEFAULT_OFF))
