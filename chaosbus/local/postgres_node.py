"""A private PostgreSQL cluster on loopback: Debian's binaries, trust auth, nothing shared.

The cluster lives in `<home>/data` with its unix socket in `<home>/run`, listens on
127.0.0.1 only and trusts local connections (a throwaway cluster for tests and demos, never
a shared server). PostgreSQL refuses to run as root, so as root the cluster belongs to the
`postgres` system account (Debian's package creates it). That account must be able to walk
down to the home; when a parent directory is closed to it (`/root/.chaosbus`, a private
temporary directory), the cluster lives in a directory of its own under the system's
temporary directory instead, named after the home, and `<home>/data` is not used.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pwd
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from chaosbus.errors import PrerequisiteMissing, StackError
from chaosbus.local import process

BIN_DIRS = tuple(Path(f"/usr/lib/postgresql/{v}/bin") for v in (17, 16, 15, 14))
SERVICE_ACCOUNT = "postgres"
DATABASE = "chaosbus"
ROLE = "chaosbus"


def postgres_bin_dir() -> Path:
    """Where initdb and postgres are: CHAOSBUS_POSTGRES_BIN, PATH, or Debian's directories."""
    configured = os.environ.get("CHAOSBUS_POSTGRES_BIN")
    candidates = [Path(configured)] if configured else []
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    candidates.extend(BIN_DIRS)
    for candidate in candidates:
        if (candidate / "initdb").exists() and (candidate / "postgres").exists():
            return candidate
    raise PrerequisiteMissing(
        "PostgreSQL not found: install it (Debian: apt-get install postgresql) "
        "or set CHAOSBUS_POSTGRES_BIN to the directory holding initdb and postgres"
    )


def postgres_available() -> bool:
    try:
        postgres_bin_dir()
    except PrerequisiteMissing:
        return False
    return True


def _run_as() -> str | None:
    """The account the server runs as: ours, unless we are root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVICE_ACCOUNT)
    except KeyError as exc:
        raise PrerequisiteMissing(
            f"running as root, PostgreSQL needs an account of its own: create the "
            f"'{SERVICE_ACCOUNT}' system user (Debian: adduser --system --group postgres)"
        ) from exc
    return SERVICE_ACCOUNT


def _reachable_by_others(path: Path) -> bool:
    """Whether any account may walk down every directory above `path`."""
    for parent in path.resolve().parents:
        with contextlib.suppress(FileNotFoundError):
            if not os.stat(parent).st_mode & stat.S_IXOTH:
                return False
    return True


@dataclass(frozen=True)
class PostgresNode:
    home: Path
    port: int

    @property
    def dsn(self) -> str:
        return f"postgresql://{ROLE}@127.0.0.1:{self.port}/{DATABASE}"

    @property
    def base(self) -> Path:
        """The cluster's own directory (see the module docstring for when it is not home)."""
        if _run_as() is None or _reachable_by_others(self.home):
            return self.home
        digest = hashlib.sha256(str(self.home.resolve()).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"chaosbus-postgres-{digest}"

    @property
    def pid_file(self) -> Path:
        return self.home / "postgres.pid"

    def start(self, *, timeout_s: float = 30) -> None:
        if process.read_pid(self.pid_file) is not None:
            return
        user = _run_as()
        bin_dir = postgres_bin_dir()
        self.home.mkdir(parents=True, exist_ok=True)
        data, run = self.base / "data", self.base / "run"
        for directory, mode in ((self.base, 0o755), (run, 0o700)):
            directory.mkdir(parents=True, exist_ok=True)
            _own(directory, user, mode)
        if not (data / "PG_VERSION").exists():
            self._initdb(bin_dir, data, user)
        argv = [
            str(bin_dir / "postgres"),
            "-D",
            str(data),
            "-p",
            str(self.port),
            "-k",
            str(run),
            "-c",
            "listen_addresses=127.0.0.1",
            # A throwaway cluster: durability buys nothing and costs every test a fsync.
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
        ]
        process.spawn(
            argv, log_file=self.home / "postgres.log", pid_file=self.pid_file, cwd=data, user=user
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._create_database():
                return
            if process.read_pid(self.pid_file) is None:
                break
            time.sleep(0.1)
        self.stop()
        raise StackError(
            f"PostgreSQL did not answer on 127.0.0.1:{self.port}; see {self.home}/postgres.log"
        )

    def _initdb(self, bin_dir: Path, data: Path, user: str | None) -> None:
        argv = [
            str(bin_dir / "initdb"),
            "-D",
            str(data),
            "-U",
            ROLE,
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        ]
        done = subprocess.run(
            argv, capture_output=True, text=True, check=False, user=user, cwd=self.base
        )
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise StackError(f"initdb failed in {data}: {last}")

    def _create_database(self) -> bool:
        """Connect (True once it answers), creating the `chaosbus` database on first start."""
        admin = f"postgresql://{ROLE}@127.0.0.1:{self.port}/postgres"
        try:
            with psycopg.connect(admin, connect_timeout=2, autocommit=True) as conn:
                found = conn.execute(
                    "select 1 from pg_database where datname = %s", (DATABASE,)
                ).fetchone()
                if found is None:
                    conn.execute(f"create database {DATABASE}")
        except psycopg.Error:
            return False
        return True

    def stop(self, *, grace_s: float = 10) -> bool:
        # SIGINT is PostgreSQL's fast shutdown; SIGTERM would wait for every client to leave.
        return process.stop(self.pid_file, grace_s=grace_s, sig=signal.SIGINT)

    def running(self) -> bool:
        return process.read_pid(self.pid_file) is not None

    def remove(self) -> None:
        """Delete a stopped cluster's files (a test fixture's private one)."""
        if self.running():
            raise StackError("PostgreSQL is still running; stop it first")
        shutil.rmtree(self.base, ignore_errors=True)
        shutil.rmtree(self.home, ignore_errors=True)


def _own(directory: Path, user: str | None, mode: int) -> None:
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(directory, entry.pw_uid, entry.pw_gid)
    directory.chmod(mode)


def postgres_answers(dsn: str, *, timeout_s: float = 2) -> bool:
    try:
        with psycopg.connect(dsn, connect_timeout=max(1, int(timeout_s))):
            return True
    except psycopg.Error:
        return False
