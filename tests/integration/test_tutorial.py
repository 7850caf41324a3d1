"""docs/tutorial.md, followed on the real stack: its commands, its files, its verdicts.

Every command below is checked to appear verbatim in the tutorial, and the files are the
ones in docs/tutorial/, copied into an empty folder as the tutorial says. Two things differ,
because tests share a broker and a machine: the topic names (a fresh pair per test) and the
service's HTTP port (a free one); both are substituted in the copied files, nothing else.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from chaosbus.local.ports import free_port

pytestmark = pytest.mark.integration

DOCS = Path(__file__).resolve().parents[2] / "docs"
TUTORIAL = (DOCS / "tutorial.md").read_text()
FILES = ("service.py", "service_fixed.py", "topics.py", "traffic.yaml")

TOPICS = "python topics.py"
SERVICE = "python service.py &"
FIXED = "python service_fixed.py &"
INIT = "chaosbus init experiment.yaml --probe http --from orders.nocode --to orders"
VALIDATE = "chaosbus validate experiment.yaml"
RUN_NAIVE = "chaosbus run experiment.yaml --report out/naive.json"
RUN_FIXED = "chaosbus run experiment.yaml --report out/fixed.json"
COMMANDS = (TOPICS, SERVICE, INIT, VALIDATE, RUN_NAIVE, FIXED, RUN_FIXED)


class Folder:
    """The reader's folder: the tutorial's files, the environment `local status --env` sets."""

    def __init__(self, root: Path, bootstrap: str, redis_url: str, topic: str) -> None:
        self.root = root
        self.port = free_port()
        self.source, self.destination = f"{topic}.nocode", f"{topic}.svc"
        self.env = {
            **os.environ,
            "CHAOSBUS_BOOTSTRAP": bootstrap,
            "CHAOSBUS_REDIS": redis_url,
            # The substitutions: the service's port and topics (its files read these).
            "PORT": str(self.port),
            "TOPIC": self.destination,
            "TOPICS": f"{self.source} {self.destination}",
        }

    def copy(self, name: str) -> None:
        text = (DOCS / "tutorial" / name).read_text()
        text = text.replace("127.0.0.1:8080", f"127.0.0.1:{self.port}")
        text = text.replace("orders.nocode", self.source)
        text = text.replace("to: orders}", f"to: {self.destination}}}")
        (self.root / name).write_text(text)

    def argv(self, command: str) -> list[str]:
        """A tutorial command as run here: this interpreter for `python` and `chaosbus`."""
        words = shlex.split(command.removesuffix(" &"))
        words = [w.replace("orders.nocode", self.source) for w in words]
        words = [self.destination if w == "orders" else w for w in words]
        if words[0] == "chaosbus":
            return [sys.executable, "-m", "chaosbus", *words[1:]]
        return [sys.executable, *words[1:]]

    def run(self, command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.argv(command), cwd=self.root, env=self.env, capture_output=True, text=True,
            timeout=180,
        )  # fmt: skip

    @contextmanager
    def background(self, command: str) -> Iterator[subprocess.Popen[bytes]]:
        log = (self.root / f"{command.split()[1]}.log").open("wb")
        process = subprocess.Popen(
            self.argv(command), cwd=self.root, env=self.env, stdout=log, stderr=log
        )
        try:
            self.wait_until_serving(process)
            yield process
        finally:
            process.terminate()
            process.wait(timeout=10)
            log.close()

    def wait_until_serving(self, process: subprocess.Popen[bytes]) -> None:
        """Until the service answers HTTP (a 404 for an order it does not know)."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert process.poll() is None, (self.root / "service.py.log").read_text()
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/orders/none", timeout=1)
            except urllib.error.HTTPError as exc:
                if exc.code == 404:
                    return
            except OSError:
                time.sleep(0.1)  # not listening yet: nothing to await but the socket
        raise AssertionError("the tutorial's service never answered")

    def report(self, name: str) -> dict[str, object]:
        data: dict[str, object] = json.loads((self.root / "out" / name).read_text())
        return data


def test_the_commands_are_the_tutorials() -> None:
    """The commands this test runs are the tutorial's, verbatim."""
    for command in COMMANDS:
        assert command in TUTORIAL, command
    for name in FILES:
        assert name in TUTORIAL, name


def test_from_an_empty_folder_to_green(
    tmp_path: Path, bootstrap: str, redis_url: str, topic_name: str
) -> None:
    """Naive service: violated (exit 1) with double-counted payments and stale versions;
    fixed service: held (exit 0), every event judged."""
    folder = Folder(tmp_path, bootstrap, redis_url, topic_name)
    for name in FILES:
        folder.copy(name)
    assert folder.run(TOPICS).returncode == 0
    with folder.background(SERVICE):
        done = folder.run(INIT)
        assert done.returncode == 0, done.stderr
        assert (tmp_path / "chaosbus-experiment.schema.json").exists()
        folder.copy("experiment.yaml")
        done = folder.run(VALIDATE)
        assert done.returncode == 0, done.stdout + done.stderr
        naive = folder.run(RUN_NAIVE)
    assert naive.returncode == 1, naive.stdout + naive.stderr
    report = folder.report("naive.json")
    assert report["status"] == "violated"
    checks = report["checks"]
    assert isinstance(checks, dict)
    paid = checks["paid-total"]
    assert paid["anomalies"]["counts"]["duplicate_effect"] > 0
    assert paid["anomalies"]["counts"]["lost_event"] == 0
    assert paid["coverage"]["outside_where"] > 0
    assert paid["coverage"]["judged_share"] == 1.0
    cause = paid["anomalies"]["examples"]["duplicate_effect"][0]["cause"]["mechanism"]
    assert "the counter shows" in cause
    with folder.background(FIXED):
        fixed = folder.run(RUN_FIXED)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    report = folder.report("fixed.json")
    assert report["status"] == "held"
    for check in report["checks"].values():  # type: ignore[attr-defined]
        assert check["coverage"]["judged_share"] == 1.0
