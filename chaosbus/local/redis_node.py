"""The real redis-server on loopback, nothing persisted (tests and demos start clean).

Optionally secured like a team's Redis: a password on the default user (`requirepass`),
ACL users (`user NAME on >PASSWORD ~* &* +@all`), and TLS only (`--port 0 --tls-port`).
Secrets go into a config file readable by its owner alone, never on the command line,
where any local user could read them from the process list.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from chaosbus.clients.redaction import redact_url
from chaosbus.clients.redis_client import ping_failure
from chaosbus.errors import StackError
from chaosbus.local import process
from chaosbus.local.prereqs import redis_server_executable


@dataclass(frozen=True)
class RedisTls:
    """The server's certificate and key, and the CA that signed it (clients trust it)."""

    cert_file: Path
    key_file: Path
    ca_file: Path


@dataclass(frozen=True)
class RedisNode:
    home: Path
    port: int
    # Kept out of repr: a node printed in a log or a traceback must not show them.
    password: str | None = field(default=None, repr=False)
    acl_users: tuple[str, ...] = field(default=(), repr=False)  # `user` directive arguments
    tls: RedisTls | None = None

    @property
    def url(self) -> str:
        """The URL of the default user, credentials included (redact it before printing)."""
        scheme = "rediss" if self.tls else "redis"
        auth = f":{quote(self.password, safe='')}@" if self.password else ""
        query = f"?ssl_ca_certs={self.tls.ca_file}" if self.tls else ""
        return f"{scheme}://{auth}127.0.0.1:{self.port}/0{query}"

    @property
    def pid_file(self) -> Path:
        return self.home / "redis.pid"

    @property
    def secrets_file(self) -> Path:
        return self.home / "secrets.conf"

    def start(self, *, timeout_s: float = 20) -> None:
        if process.read_pid(self.pid_file) is not None:
            return
        self.home.mkdir(parents=True, exist_ok=True)
        argv = [str(redis_server_executable()), *self._config_file(), *self._arguments()]
        process.spawn(argv, log_file=self.home / "redis.log", pid_file=self.pid_file, cwd=self.home)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if asyncio.run(redis_answers(self.url)):
                return
            if process.read_pid(self.pid_file) is None:
                break
            time.sleep(0.1)
        self.stop()
        raise StackError(
            f"redis-server did not answer on {redact_url(self.url)}; see {self.home}/redis.log"
        )

    def stop(self, *, grace_s: float = 10) -> bool:
        return process.stop(self.pid_file, grace_s=grace_s)

    def running(self) -> bool:
        return process.read_pid(self.pid_file) is not None

    def _arguments(self) -> list[str]:
        ports = ["--port", str(self.port)]
        if self.tls is not None:
            ports = [
                "--port",
                "0",
                "--tls-port",
                str(self.port),
                "--tls-cert-file",
                str(self.tls.cert_file),
                "--tls-key-file",
                str(self.tls.key_file),
                "--tls-ca-cert-file",
                str(self.tls.ca_file),
                # Clients prove themselves by password, not by a certificate of their own.
                "--tls-auth-clients",
                "no",
            ]
        return [
            "--bind",
            "127.0.0.1",
            *ports,
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

    def _config_file(self) -> list[str]:
        """The secrets file as redis-server's first argument (its config file), if any."""
        lines = [f"requirepass {_quoted(self.password)}"] if self.password else []
        lines += [f"user {rules}" for rules in self.acl_users]
        if not lines:
            return []
        self.secrets_file.touch(mode=0o600)
        self.secrets_file.chmod(0o600)
        self.secrets_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return [str(self.secrets_file)]


def _quoted(value: str) -> str:
    """A redis.conf argument: double-quoted, with backslash and quote escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


async def redis_answers(url: str, *, timeout_s: float = 2) -> bool:
    return await ping_failure(url, timeout_s=timeout_s) is None
