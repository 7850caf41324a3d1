"""A private redis-server started with an aclfile of chaosbus's roles, for role tests."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis.asyncio as aioredis

from chaosbus.control.acl import AclUser, aclfile_lines
from chaosbus.control.functions import load_library
from chaosbus.local.redis_node import redis_answers
from chaosbus.testing import free_port_pair

NAMESPACE = "chaosbus"
USERS = [
    AclUser("admin", "admin"),
    AclUser("operator", "operator"),
    AclUser("approver", "approver", ("business",)),
    AclUser("reader", "reader"),
]


@dataclass(frozen=True)
class AclRedis:
    port: int

    def url(self, user: str) -> str:
        return f"redis://{user}:pw-{user}@127.0.0.1:{self.port}/0"


async def _load(url: str) -> None:
    """What `control acl --apply` does first: the functions every role's writes go through."""
    client = aioredis.from_url(url)
    try:
        await load_library(client)
    finally:
        await client.aclose()


@contextmanager
def acl_redis(home: Path) -> Iterator[AclRedis]:
    """redis-server with the roles' users (password `pw-NAME`) and the default user off."""
    passwords = {u.name: f"pw-{u.name}" for u in USERS}
    aclfile = home / "users.acl"
    aclfile.write_text(
        "\n".join(["user default off", *aclfile_lines(USERS, NAMESPACE, passwords)]) + "\n"
    )
    port = free_port_pair()
    server = shutil.which("redis-server") or "/usr/bin/redis-server"
    argv = [
        server,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(home),
        "--aclfile",
        str(aclfile),
    ]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        node = AclRedis(port)
        for _ in range(100):
            if asyncio.run(redis_answers(node.url("admin"))):
                break
            if proc.poll() is not None:
                raise RuntimeError(f"redis-server exited {proc.returncode}; aclfile {aclfile}")
            # redis-server opens its port in its own time; there is nothing to await.
            subprocess.run(["sleep", "0.05"], check=True)
        asyncio.run(_load(node.url("admin")))
        yield node
    finally:
        proc.terminate()
        proc.wait(timeout=10)
