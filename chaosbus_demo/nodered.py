"""The demo's low-code automation: install Node-RED once, run the flow, stop it.

The flow, settings and pinned dependencies live in `chaosbus_demo/node_red/` (package
data; `demo/node-red` in a clone points there). `install()` runs `npm ci` from them into
`$CHAOSBUS_CACHE/node-red` (default `~/.cache/chaosbus/node-red`) and skips the work when
the lock file has not changed. `start()` copies the flow and settings into a writable home,
starts Node-RED there as a detached process (its own session, so a Ctrl-C in the caller's
terminal spares it; call `stop()`), and returns once `GET /health` answers::

    with running(bootstrap="127.0.0.1:9092", topic="orders.nocode", home=tmp) as node_red:
        post_event(node_red.webhook_url, event)

The process's environment is what `settings.js` reads: CHAOSBUS_BOOTSTRAP,
CHAOSBUS_SOURCE_TOPIC, PORT, CHAOSBUS_NODE_RED_HOST, CHAOSBUS_NODE_RED_HOME.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from chaosbus.clients.connection import KafkaSettings
from chaosbus.errors import PrerequisiteMissing, StackError
from chaosbus.local import process
from chaosbus.local.ports import free_port
from chaosbus.local.prereqs import require_program
from chaosbus.local.process import read_pid, wait_until
from chaosbus.local.stack import default_cache

BUNDLE = Path(__file__).with_name("node_red")
BUNDLE_FILES = ("package.json", "package-lock.json", "settings.js", "flows.json")
MIN_NODE_MAJOR = 18
INSTALL_TIMEOUT_S = 600
Progress = Callable[[str], None]
# Children started here, kept so they are reaped (and not reported as leaked) when stopped.
_children: dict[int, subprocess.Popen[bytes]] = {}


def _quiet(_: str) -> None:
    return None


def node_executable() -> Path:
    found = require_program(
        "node",
        missing="node not found: install Node.js 18.5+ with npm "
        "(Debian: apt-get install nodejs npm) to run the Node-RED automation of the demo",
    )
    out = subprocess.run([found, "--version"], capture_output=True, text=True, check=False)
    match = re.match(r"v(\d+)\.", out.stdout.strip())
    if not match or int(match.group(1)) < MIN_NODE_MAJOR:
        raise PrerequisiteMissing(
            f"{found} is Node.js {out.stdout.strip() or '?'}: Node-RED 4 needs 18.5+ "
            "(install a newer nodejs)"
        )
    return found


def npm_executable() -> Path:
    return require_program(
        "npm",
        missing="npm not found: install npm (Debian: apt-get install npm) to install the "
        "Node-RED automation of the demo",
    )


def default_install_dir() -> Path:
    return default_cache() / "node-red"


def check_bundle() -> None:
    missing = [name for name in BUNDLE_FILES if not (BUNDLE / name).is_file()]
    if missing:
        raise StackError(
            f"the Node-RED flow files are missing from {BUNDLE} ({', '.join(missing)}): "
            "reinstall chaosbus with its package data, or run from a clone (pip install -e .)"
        )


def bundle_digest() -> str:
    check_bundle()
    digest = hashlib.sha256()
    for name in ("package.json", "package-lock.json"):
        digest.update((BUNDLE / name).read_bytes())
    return digest.hexdigest()


def red_js(install_dir: Path) -> Path:
    return install_dir / "node_modules" / "node-red" / "red.js"


def install(install_dir: Path | None = None, *, progress: Progress = _quiet) -> Path:
    """Install the pinned Node-RED and kafkajs (once per lock file); returns the directory."""
    target = install_dir or default_install_dir()
    node_executable()
    npm = npm_executable()
    target.mkdir(parents=True, exist_ok=True)
    stamp = target / ".installed"
    wanted = bundle_digest()
    # Two processes (a demo and a test run) may install at once: one does, the other waits.
    with (target / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if red_js(target).exists() and stamp.exists() and stamp.read_text().strip() == wanted:
            return target
        progress(f"installing Node-RED into {target} (npm ci, about 100 MB, once)")
        for name in ("package.json", "package-lock.json"):
            shutil.copyfile(BUNDLE / name, target / name)
        log_file = target / "npm.log"
        with log_file.open("wb") as log:
            try:
                done = subprocess.run(
                    [str(npm), "ci", "--no-audit", "--no-fund", "--no-update-notifier"],
                    cwd=target,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    timeout=INSTALL_TIMEOUT_S,
                    check=False,
                )
            except subprocess.TimeoutExpired as exc:
                raise StackError(f"npm ci did not finish in {INSTALL_TIMEOUT_S} s") from exc
        if done.returncode != 0 or not red_js(target).exists():
            raise StackError(f"npm ci failed in {target}: {_last_line(log_file)} (see {log_file})")
        stamp.write_text(wanted + "\n")
    return target


def _last_line(path: Path) -> str:
    lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1][:200] if lines else "no output"


@dataclass(frozen=True)
class NodeRed:
    """A running Node-RED: its addresses, process and files."""

    home: Path
    host: str
    port: int
    pid: int
    topic: str
    bootstrap: str

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def webhook_url(self) -> str:
        return f"{self.url}/orders"

    @property
    def health_url(self) -> str:
        return f"{self.url}/health"

    @property
    def editor_url(self) -> str:
        return f"{self.url}/admin/"

    @property
    def log_file(self) -> Path:
        return self.home / "node-red.log"

    def stop(self, *, grace_s: float = 10) -> bool:
        return stop(self.home, grace_s=grace_s)


def answers(url: str, *, timeout_s: float = 2) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return int(response.status) == 200
    except (urllib.error.URLError, OSError):
        return False


def kafkajs_env(kafka: KafkaSettings) -> dict[str, str]:
    """The environment settings.js turns into kafkajs's `ssl` and `sasl` options."""
    values = {
        "CHAOSBUS_KAFKA_SECURITY_PROTOCOL": kafka.security_protocol,
        "CHAOSBUS_KAFKA_SASL_MECHANISM": kafka.sasl_mechanism,
        "CHAOSBUS_KAFKA_SASL_USERNAME": kafka.sasl_username,
        "CHAOSBUS_KAFKA_SASL_PASSWORD": kafka.sasl_password,
        "CHAOSBUS_KAFKA_SSL_CA": kafka.ssl_cafile,
        "CHAOSBUS_KAFKA_SSL_CERT": kafka.ssl_certfile,
        "CHAOSBUS_KAFKA_SSL_KEY": kafka.ssl_keyfile,
        "CHAOSBUS_KAFKA_SSL_CHECK_HOSTNAME": "1" if kafka.ssl_check_hostname else "0",
    }
    return {name: value for name, value in values.items() if value}


def start(
    *,
    bootstrap: str,
    home: Path,
    kafka: KafkaSettings | None = None,
    topic: str = "orders.nocode",
    port: int | None = None,
    host: str = "127.0.0.1",
    install_dir: Path | None = None,
    timeout_s: float = 60,
    progress: Progress = _quiet,
    flow_env: Mapping[str, str] | None = None,
) -> NodeRed:
    """Install if needed, start Node-RED on `host:port` (a free port by default), wait for it.

    `flow_env` adds variables the flows read (CHAOSBUS_PRICING_URL for the priced-orders
    flows, CHAOSBUS_RETRY_DELAY_MS, CHAOSBUS_RETRY_MAX_ATTEMPTS).

    The webhook answers before Kafka is touched: the flow connects its producer on the
    first call, so a broker that is down shows up as a 500 from `POST /orders`.
    """
    installed = install(install_dir, progress=progress)
    node = node_executable()
    home.mkdir(parents=True, exist_ok=True)
    pid_file = home / "node-red.pid"
    if read_pid(pid_file) is not None:
        raise StackError(f"Node-RED already runs from {home} (pid file {pid_file})")
    for name in ("settings.js", "flows.json"):
        shutil.copyfile(BUNDLE / name, home / name)
    port = port or free_port(host)
    env = {
        **os.environ,
        "CHAOSBUS_BOOTSTRAP": bootstrap,
        "CHAOSBUS_SOURCE_TOPIC": topic,
        "PORT": str(port),
        "CHAOSBUS_NODE_RED_HOST": host,
        "CHAOSBUS_NODE_RED_HOME": str(home),
        "NODE_ENV": "production",
        **(kafkajs_env(kafka) if kafka is not None else {}),
        **(flow_env or {}),
    }
    argv = [
        str(node),
        str(red_js(installed)),
        "--settings",
        str(home / "settings.js"),
        "--userDir",
        str(home),
    ]
    handle = NodeRed(home=home, host=host, port=port, pid=0, topic=topic, bootstrap=bootstrap)
    progress(f"starting Node-RED on {handle.url}")
    with handle.log_file.open("ab") as log:
        proc = subprocess.Popen(
            argv,
            cwd=installed,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    _children[proc.pid] = proc
    pid_file.write_text(f"{proc.pid}\n")
    handle = NodeRed(
        home=home, host=host, port=port, pid=proc.pid, topic=topic, bootstrap=bootstrap
    )
    ready = wait_until(
        lambda: answers(handle.health_url) or proc.poll() is not None, timeout_s=timeout_s
    )
    if not ready or proc.poll() is not None:
        stop(home)
        raise StackError(
            f"Node-RED did not come up on {handle.url} within {timeout_s:.0f} s: "
            f"{_last_line(handle.log_file)} (see {handle.log_file})"
        )
    return handle


def stop(home: Path, *, grace_s: float = 10) -> bool:
    """Stop the Node-RED started from `home` (SIGTERM, then SIGKILL); True if one ran."""
    pid_file = home / "node-red.pid"
    pid = read_pid(pid_file)
    if not process.stop(pid_file, grace_s=grace_s):
        return False
    child = _children.pop(pid, None) if pid is not None else None
    if child is not None:
        child.wait()
    return True


@contextmanager
def running(
    *,
    bootstrap: str,
    home: Path,
    kafka: KafkaSettings | None = None,
    topic: str = "orders.nocode",
    port: int | None = None,
    install_dir: Path | None = None,
    timeout_s: float = 60,
    progress: Progress = _quiet,
    flow_env: Mapping[str, str] | None = None,
) -> Iterator[NodeRed]:
    """`start()` … `stop()`, also when the body raises or is interrupted."""
    handle = start(
        bootstrap=bootstrap,
        home=home,
        kafka=kafka,
        topic=topic,
        port=port,
        install_dir=install_dir,
        timeout_s=timeout_s,
        progress=progress,
        flow_env=flow_env,
    )
    try:
        yield handle
    finally:
        handle.stop()
