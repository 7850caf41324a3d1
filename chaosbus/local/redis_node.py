"""The real redis-server on loopback, nothing persisted (tests and demos start clean)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from chaosbus.errors import StackError
from chaosbus.local import process
from chaosbus.local.prereqs import redis_server_executable


@dataclass(frozen=True)
class RedisNode:
    home: Path
    port: int

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pid_file(self) -> Path:
        return self.home / "redis.pid"

    def start(self, *, timeout_s: float = 20) -> None:
        if process.read_pid(self.pid_file) is not None:
            return
        self.home.mkdir(parents=True, exist_ok=True)
        argv = [
            str(redis_server_executable()),
            "--bind",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.home),
            "--protected-mode",
            "yes",
            "--daemonize",
            "no",
        ]
        process.spawn(argv, log_file=self.home / "redis.log", pid_file=self.pid_file, cwd=self.home)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if asyncio.run(redis_answers(self.url)):
                return
            if process.read_pid(self.pid_file) is None:
                break
            time.sleep(0.1)
        self.stop()
        raise StackError(f"redis-server did not answer on {self.url}; see {self.home}/redis.log")

    def stop(self, *, grace_s: float = 10) -> bool:
        return process.stop(self.pid_file, grace_s=grace_s)

    def running(self) -> bool:
        return process.read_pid(self.pid_file) is not None


async def redis_answers(url: str, *, timeout_s: float = 2) -> bool:
    client = aioredis.Redis.from_url(url, socket_connect_timeout=timeout_s)
    try:
        return bool(await client.ping())
    except (RedisError, OSError):
        return False
    finally:
        await client.aclose()
