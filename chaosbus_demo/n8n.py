"""The demo's n8n: start it in a private user folder, offline, and stop it.

    installed once (chaosbus_demo.n8n_install)   →  a prepared user folder per flow settings
        → copied into `home` → `n8n start` (its own session) → GET /webhook/health answers
        → POST /webhook/orders publishes to the source topic; POST /webhook/priced calls the
          pricing API with Retry On Fail

What varies per run comes from the environment n8n starts with: the topic
(`CHAOSBUS_SOURCE_TOPIC`, read by the Kafka node as `$env`), the pricing URL
(`CHAOSBUS_PRICING_URL`), the brokers (`CREDENTIALS_OVERWRITE_DATA` fills the credential's
empty `brokers`). The webhooks answer on receipt (n8n's default), before the Kafka node
runs, and the Kafka node sends with acks=0 unless `FlowSettings.kafka_acks`: n8n's own
defaults, kept on purpose, are what `chaosbus handoff` judges.

    with running(bootstrap="127.0.0.1:9092", topic="orders.nocode", home=tmp) as n8n:
        post_event(n8n.webhook_url, event)

n8n runs a task runner beside its main process; both are in the session started here, and
`stop()` signals that whole process group, by the pid it recorded.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from chaosbus.clients.connection import KafkaSettings
from chaosbus.errors import InvalidInput, StackError
from chaosbus.local.ports import free_port
from chaosbus.local.process import is_alive, read_pid, wait_until
from chaosbus_demo.n8n_install import (
    OFFLINE_ENV,
    FlowSettings,
    Progress,
    install,
    prepared_folder,
)
from chaosbus_demo.nodered import answers

START_TIMEOUT_S = 120.0
DEFAULT_SETTINGS = FlowSettings()  # n8n's own defaults: Retry On Fail 3 x 1 s, acks=0


def _quiet(_: str) -> None:
    return None


@dataclass(frozen=True)
class N8n:
    """A running n8n: its addresses, process and files; `started_s` is spawn → webhook live."""

    home: Path
    host: str
    port: int
    pid: int
    topic: str
    bootstrap: str
    started_s: float = 0.0

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def webhook_url(self) -> str:
        return f"{self.url}/webhook/orders"

    @property
    def priced_url(self) -> str:
        return f"{self.url}/webhook/priced"

    @property
    def health_url(self) -> str:
        return f"{self.url}/webhook/health"

    @property
    def log_file(self) -> Path:
        return self.home / "n8n.log"

    def stop(self, *, grace_s: float = 15) -> bool:
        return stop(self.home, grace_s=grace_s)


def refuse_secured(kafka: KafkaSettings | None) -> None:
    """The prepared credential is plaintext (n8n's overwrites cannot turn TLS off or on)."""
    if kafka is not None and kafka.security_protocol not in (None, "", "PLAINTEXT"):
        raise InvalidInput(
            f"the demo's n8n flow speaks plaintext Kafka only, not {kafka.security_protocol}: "
            "use --automation node-red with a secured cluster"
        )


def start(
    *,
    bootstrap: str,
    home: Path,
    topic: str = "orders.nocode",
    kafka: KafkaSettings | None = None,
    port: int | None = None,
    host: str = "127.0.0.1",
    pricing_url: str = "http://127.0.0.1:9301",
    settings: FlowSettings = DEFAULT_SETTINGS,
    install_dir: Path | None = None,
    timeout_s: float = START_TIMEOUT_S,
    progress: Progress = _quiet,
    concurrency: int | None = None,
) -> N8n:
    """Install and prepare if needed, start n8n in `home`, return once its webhooks answer.

    `concurrency` limits the executions running at once (n8n queues the rest, FIFO); by
    default n8n runs them all at once, and overlapping executions may publish out of order.
    """
    refuse_secured(kafka)
    installed = install(install_dir, progress=progress)
    template = prepared_folder(installed, settings, progress=progress)
    pid_file = home / "n8n.pid"
    if read_pid(pid_file) is not None:
        raise StackError(f"n8n already runs from {home} (pid file {pid_file})")
    home.mkdir(parents=True, exist_ok=True)
    shutil.copytree(template / ".n8n", home / ".n8n", dirs_exist_ok=True)
    port = port or free_port(host)
    env = {
        **installed.env(),
        **OFFLINE_ENV,
        "N8N_USER_FOLDER": str(home),
        "N8N_PORT": str(port),
        "N8N_LISTEN_ADDRESS": host,
        "N8N_HOST": host,
        "N8N_BLOCK_ENV_ACCESS_IN_NODE": "false",
        "KAFKAJS_NO_PARTITIONER_WARNING": "1",  # once per execution otherwise
        "N8N_RUNNERS_BROKER_PORT": str(free_port(host)),
        "CREDENTIALS_OVERWRITE_DATA": json.dumps({"kafka": {"brokers": bootstrap}}),
        "CHAOSBUS_SOURCE_TOPIC": topic,
        "CHAOSBUS_PRICING_URL": pricing_url.rstrip("/"),
    }
    if concurrency is not None:
        env["N8N_CONCURRENCY_PRODUCTION_LIMIT"] = str(concurrency)
    log_file = home / "n8n.log"
    progress(f"starting n8n on http://{host}:{port}")
    started = time.monotonic()
    with log_file.open("ab") as log:
        proc = subprocess.Popen(
            [str(installed.node), str(installed.n8n), "start"],
            cwd=home,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    _children[proc.pid] = proc
    pid_file.write_text(f"{proc.pid}\n")
    handle = N8n(home, host, port, proc.pid, topic, bootstrap)
    ready = wait_until(
        lambda: answers(handle.health_url) or proc.poll() is not None,
        timeout_s=timeout_s,
        interval_s=0.25,
    )
    if not ready or proc.poll() is not None:
        stop(home)
        raise StackError(
            f"n8n did not come up on {handle.url} within {timeout_s:.0f} s: "
            f"{_last_line(log_file)} (see {log_file})"
        )
    return N8n(home, host, port, proc.pid, topic, bootstrap, time.monotonic() - started)


# Children started here, kept so they are reaped when stopped.
_children: dict[int, subprocess.Popen[bytes]] = {}


def stop(home: Path, *, grace_s: float = 15) -> bool:
    """Stop the n8n started from `home` and its task runner (SIGTERM, then SIGKILL)."""
    pid_file = home / "n8n.pid"
    pid = read_pid(pid_file)
    if pid is None:
        pid_file.unlink(missing_ok=True)
        return False
    # Its own session: the process group is the pid recorded at start.
    _signal_group(pid, signal.SIGTERM)
    child = _children.pop(pid, None)
    if not wait_until(lambda: _gone(pid, child), timeout_s=grace_s):
        _signal_group(pid, signal.SIGKILL)
        wait_until(lambda: _gone(pid, child), timeout_s=10)
    _signal_group(pid, signal.SIGKILL)  # a task runner that outlived its parent
    pid_file.unlink(missing_ok=True)
    return True


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)


def _gone(pid: int, child: subprocess.Popen[bytes] | None) -> bool:
    if child is not None:
        return child.poll() is not None
    return not is_alive(pid)


def _last_line(path: Path) -> str:
    try:
        lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return "no log"
    return lines[-1][:200] if lines else "no output"


@contextmanager
def running(
    *,
    bootstrap: str,
    home: Path,
    topic: str = "orders.nocode",
    kafka: KafkaSettings | None = None,
    port: int | None = None,
    pricing_url: str = "http://127.0.0.1:9301",
    settings: FlowSettings = DEFAULT_SETTINGS,
    install_dir: Path | None = None,
    timeout_s: float = START_TIMEOUT_S,
    progress: Progress = _quiet,
) -> Iterator[N8n]:
    """`start()` … `stop()`, also when the body raises or is interrupted."""
    try:
        yield start(
            bootstrap=bootstrap,
            home=home,
            topic=topic,
            kafka=kafka,
            port=port,
            pricing_url=pricing_url,
            settings=settings,
            install_dir=install_dir,
            timeout_s=timeout_s,
            progress=progress,
        )
    finally:
        stop(home)
