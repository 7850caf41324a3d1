"""Secrets on every error path (issue 21, reproduction 8): each case goes through the real
command line in a subprocess, and the secret is looked for in stdout, stderr and every file
the command wrote (report, request log, history, anything under its home).

The cases: a Redis password with `/`, `#` or `?` left unescaped (the parser took part of it
for a port, a path or a query and printed it); a webhook URL with credentials (logged raw);
a `sasl.jaas.config` without a login module (its first word, the password, echoed); a libpq
`key=value` DSN with a space in the password (libpq quotes the word after the space).
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from chaosbus.clients.connection import KafkaSettings
from chaosbus.control import operations
from chaosbus.streams.topics import TopicAdmin
from chaosbus_demo.nodered import free_port
from chaosbus_demo.pricing import serving
from tests.integration import databases
from tests.integration.databases import flushed

pytestmark = pytest.mark.integration

SECRET = "Zq7-s3cret-" + uuid.uuid4().hex[:8]


@dataclass(frozen=True)
class Ran:
    code: int
    stdout: str
    stderr: str
    written: dict[Path, bytes]

    def leaks(self, secret: str) -> list[str]:
        """Where `secret` appears: stdout, stderr, or the files written."""
        found = [
            name
            for name, text in (("stdout", self.stdout), ("stderr", self.stderr))
            if secret in text
        ]
        needle = secret.encode()
        found += [str(path) for path, data in self.written.items() if needle in data]
        return found


async def cli(home: Path, *args: str, env: dict[str, str] | None = None) -> Ran:
    """`chaosbus ARGS` in `home` (its cwd, CHAOSBUS_HOME and history); every file there is
    read back afterwards (the inputs the test wrote live outside it)."""
    await asyncio.to_thread(home.mkdir, parents=True, exist_ok=True)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "chaosbus",
        *args,
        cwd=home,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={
            **os.environ,
            "CHAOSBUS_HOME": str(home / "chaosbus-home"),
            "CHAOSBUS_HISTORY": str(home / "history.sqlite"),
            "CHAOSBUS_LOG_LEVEL": "DEBUG",
            **(env or {}),
        },
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    written = await asyncio.to_thread(files_under, home)
    return Ran(process.returncode or 0, out.decode(), err.decode(), written)


async def released(redis_url: str, db: int) -> str:
    """Database `db` of the session's Redis, emptied, its control plane released."""
    url = await flushed(redis_url, db)
    await operations.init(url, "test")
    return url


def files_under(home: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in home.rglob("*") if p.is_file()}


FAULTS = [{"type": "error", "probability": 0.5, "status": 503}]
HTTP_ROUTES = [
    {"name": "p", "listen": "127.0.0.1:1", "upstream": "http://127.0.0.1:2", "faults": FAULTS}
]


def experiment(**extra: object) -> dict[str, object]:
    return {
        "name": "secrets",
        "hypothesis": "No secret is ever printed.",
        "seed": 1,
        "schedule": {"warmup_s": 0, "inject_s": 1, "recover_s": 0},
        **extra,
    }


class TestRedisUrl:
    @pytest.mark.parametrize("char", ["/", "#", "?"])
    async def test_an_unescaped_character_in_the_password(self, char: str, tmp_path: Path) -> None:
        """`kill` and `run` refuse the URL in one line (exit 2) that shows neither the URL
        nor the parser's complaint; nothing of the password is anywhere."""
        password = f"{SECRET[:6]}{char}{SECRET[6:]}"
        url = f"redis://chaos:{password}@127.0.0.1:1/0"
        exp = tmp_path / "exp.yaml"
        exp.write_text(yaml.safe_dump(experiment(http_routes=HTTP_ROUTES)))
        for args in (("kill", "--redis", url), ("run", str(exp), "--redis", url)):
            ran = await cli(tmp_path / "home", *args)
            assert ran.code == 2, ran.stderr
            assert "does not parse" in ran.stderr
            for part in (password, SECRET[:6], SECRET[6:]):
                assert ran.leaks(part) == [], (args, part)

    async def test_a_password_that_parses_as_a_port_and_path(self, tmp_path: Path) -> None:
        """`redis://u:1234/rest@host`: the parser sees host `u`, port 1234; refused alike."""
        url = f"redis://u:1234/{SECRET}@127.0.0.1:1/0"
        ran = await cli(tmp_path / "home", "kill", "--redis", url)
        assert ran.code == 2
        assert ran.leaks(SECRET) == []
        assert ran.leaks("1234/") == []


class TestWebhook:
    async def test_credentials_in_a_webhook_url_are_never_logged(
        self, redis_url: str, bootstrap: str, tmp_path: Path
    ) -> None:
        """A run whose webhook (CHAOSBUS_NOTIFY_URL) cannot be reached logs each attempt and
        the failure, at DEBUG, with the password masked; report, request log and history
        hold no trace of it."""
        db_url = await released(redis_url, databases.SECRETS)
        hook = f"http://hookuser:{SECRET}@127.0.0.1:{free_port()}/hook"
        exp = tmp_path / "exp.yaml"
        async with serving() as (_, upstream):
            listen = f"127.0.0.1:{free_port()}"
            routes = [{"name": "pricing", "listen": listen, "upstream": upstream, "faults": FAULTS}]
            exp.write_text(yaml.safe_dump(experiment(http_routes=routes)))
            ran = await cli(
                tmp_path / "home",
                *("run", str(exp), "--redis", db_url, "--bootstrap", bootstrap),
                *("--report", "out/report.json"),
                env={"CHAOSBUS_NOTIFY_URL": hook},
            )
        # No traffic: nothing to judge (exit 2); what matters is what it printed and wrote.
        assert "report: out/report.json" in ran.stderr, ran.stderr
        assert "hookuser:***@127.0.0.1" in ran.stderr  # the attempts were logged, masked
        assert ran.leaks(SECRET) == []
        assert any(p.name == "report.json" for p in ran.written)

    async def test_a_webhook_url_that_does_not_parse_is_not_echoed(self, tmp_path: Path) -> None:
        """In a file, a password with an unescaped `/` is one line naming the field only."""
        exp = tmp_path / "exp.yaml"
        hook = f"http://hookuser:{SECRET[:6]}/{SECRET[6:]}@127.0.0.1:9/hook"
        notify = [{"url": hook}]
        exp.write_text(yaml.safe_dump(experiment(http_routes=HTTP_ROUTES, notify=notify)))
        ran = await cli(tmp_path / "home", "validate", str(exp))
        assert ran.code == 2
        assert "notify[0].url: does not parse" in ran.stderr
        assert ran.leaks(SECRET[:6]) == []
        assert ran.leaks(SECRET[6:]) == []


class TestKafkaJaas:
    @pytest.mark.parametrize(
        "jaas",
        [
            f'password="{SECRET}" username="u";',
            f"{SECRET} required;",
            f"password={SECRET}",
        ],
        ids=["quoted", "required", "bare"],  # ids without the secret: stable across workers
    )
    async def test_a_jaas_config_without_a_login_module(self, jaas: str, tmp_path: Path) -> None:
        """Refused in one line (exit 2) that says no module is named; the value is not shown."""
        props = tmp_path / "client.properties"
        props.write_text(f"security.protocol=SASL_PLAINTEXT\nsasl.jaas.config={jaas}\n")
        for args in (
            ("proxy", "--kafka-config", str(props), "--route", "a:b", "--bootstrap", "127.0.0.1:1"),
            ("kill", "--redis", "redis://127.0.0.1:1/0"),
        ):
            env = {"CHAOSBUS_KAFKA_CONFIG": str(props)} if args[0] == "kill" else None
            ran = await cli(tmp_path / "home", *args, env=env)
            assert ran.leaks(SECRET) == [], args
        ran = await cli(
            tmp_path / "home", *("proxy", "--kafka-config", str(props), "--route", "a:b")
        )
        assert ran.code == 2
        assert "sasl.jaas.config names no login module" in ran.stderr


class TestLibpqDsn:
    @pytest.mark.parametrize(
        "dsn",
        [
            f"host=127.0.0.1 port=1 user=u password={SECRET[:6]} {SECRET[6:]} dbname=x",
            f"host=127.0.0.1 password='{SECRET[:6]} {SECRET[6:]}",
            f"postgresql://u:{SECRET[:6]} {SECRET[6:]}@127.0.0.1:1/x",
        ],
        ids=["key-value", "unterminated-quote", "url"],
    )
    async def test_a_dsn_that_does_not_parse(
        self, dsn: str, bootstrap: str, redis_url: str, tmp_path: Path
    ) -> None:
        """`validate` and `run` (against a real broker and control plane, which the run
        would pass to reach its probes) refuse the probe's DSN in one line naming its path;
        no word of the password is anywhere."""
        # The parametrised test name carries the DSN; the topics take a clean name.
        tag = uuid.uuid4().hex[:10]
        source, destination = f"secrets-{tag}.src", f"secrets-{tag}.dst"
        async with TopicAdmin(KafkaSettings(bootstrap)) as admin:
            await admin.create(source, 1)
            await admin.create(destination, 1)
        control = await released(redis_url, databases.SECRETS_CONTROL)
        exp = tmp_path / "exp.yaml"
        check = {
            "name": "c",
            "model": "once",
            "extract": {"event_id": {"json": "$.id"}, "entity": "record_key"},
            "probe": {"kind": "sql", "dsn": dsn, "query": "select id from effects"},
        }
        doc = experiment(
            routes=[{"from": source, "to": destination}],
            faults=[{"type": "duplicate", "probability": 0.1}],
            monitor={"source_topic": source, "checks": [check]},
            group_id=f"g-{tag}",
        )
        exp.write_text(yaml.safe_dump(doc))
        run = ("run", str(exp), "--redis", control, "--bootstrap", bootstrap)
        for args in (run, ("validate", str(exp))):
            ran = await cli(tmp_path / "home", *args)
            assert ran.code == 2, ran.stderr
            assert "monitor.checks[0].probe.dsn: does not parse" in ran.stderr, ran.stderr
            assert ran.leaks(SECRET[:6]) == []
            assert ran.leaks(SECRET[6:]) == []
