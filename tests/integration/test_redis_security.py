"""Redis AUTH, ACL users and TLS against a real redis-server: control plane, probe, refusals."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from chaosbus.clients.connection import KafkaSettings
from chaosbus.clients.redis_client import CA_ENV, redis_client
from chaosbus.control import ControlState, Keys, KillSwitchWatcher, operations
from chaosbus.errors import InvalidInput, Unreachable
from chaosbus.monitors.history import Observation
from chaosbus.monitors.probes.redis_probe import RedisProbe, RedisProbeConfig
from chaosbus.runner import run_experiment
from chaosbus_demo.services import LedgerService, ServiceConfig
from tests.cli_runner import chaosbus
from tests.integration.runner_support import make_stage
from tests.integration.secure_redis import (
    ACL_PASSWORD,
    ACL_USER,
    PASSWORD,
    READER,
    READER_PASSWORD,
    SecureRedis,
    secure_redis,
)

pytestmark = pytest.mark.integration
__all__ = ["secure_redis"]  # the fixture, imported for pytest

WRONG = "Wrong-pw-41d2"
KINDS = ["password", "acl-user", "tls+password", "tls+acl-user"]


def url_of(redis: SecureRedis, kind: str) -> str:
    tls = kind.startswith("tls")
    return redis.acl_url(tls=tls) if kind.endswith("acl-user") else redis.url(tls=tls)


def namespace() -> str:
    return f"chaosbus-test-{uuid.uuid4().hex[:8]}"


class TestControlPlane:
    @pytest.mark.parametrize("kind", KINDS)
    async def test_kill_unkill_audit(self, secure_redis: SecureRedis, kind: str) -> None:
        """kill, unkill and the audit log work with a password, an ACL user and over TLS; the
        actor is the user Redis authenticated, what the caller claimed is kept beside it."""
        url, ns = url_of(secure_redis, kind), namespace()
        user = ACL_USER if kind.endswith("acl-user") else "default"
        state = await operations.kill(url, "ops", "drill", clock=lambda: 1_000, namespace=ns)
        assert (state.actor, state.reason) == (user, "drill")
        assert await operations.unkill(url, "ops", clock=lambda: 2_000, namespace=ns) is True
        entries = await operations.audit_log(url, 10, namespace=ns)
        assert [(e.action, e.actor, e.claimed) for e in entries] == [
            ("kill", user, "ops"),
            ("unkill", user, "ops"),
        ]
        # The server's clock stamps entries, not the caller's (decision 0300).
        assert 1_000 < entries[0].at_ms <= entries[1].at_ms

    async def test_verification_can_be_turned_off(self, secure_redis: SecureRedis) -> None:
        """ssl_cert_reqs=none in the URL connects without a CA file (an explicit opt-out)."""
        url = f"rediss://:{PASSWORD}@127.0.0.1:{secure_redis.tls.port}/0?ssl_cert_reqs=none"
        ns = namespace()
        await operations.kill(url, "ops", None, clock=lambda: 5, namespace=ns)
        assert [e.action for e in await operations.audit_log(url, 5, namespace=ns)] == ["kill"]

    async def test_watcher_over_tls_sees_a_kill(self, secure_redis: SecureRedis) -> None:
        """The kill-switch watcher follows the switch through TLS as an ACL user."""
        url, keys = secure_redis.acl_url(tls=True), Keys(namespace())
        seen: list[ControlState] = []
        killed = asyncio.Event()

        async def on_change(state: ControlState, detail: str) -> None:
            seen.append(state)
            if state == "killed":
                killed.set()

        # A namespace never initialised reads as engaged (fail closed): release it first.
        await operations.init(url, "test", namespace=keys.namespace)
        async with KillSwitchWatcher(url, on_change, keys=keys, poll_s=0.1):
            await operations.kill(url, "ops", None, namespace=keys.namespace)
            await asyncio.wait_for(killed.wait(), timeout=5)
        assert seen == ["clear", "killed"]


class TestRedisProbe:
    async def test_reads_through_tls_and_auth(self, secure_redis: SecureRedis) -> None:
        """The probe reads hashes through TLS as the ACL user: exact versions, absent as None."""
        url = secure_redis.acl_url(tls=True)
        prefix = f"p{uuid.uuid4().hex[:6]}"
        writer = redis_client(url)
        try:
            await writer.hset(f"{prefix}:order:a", mapping={"version": 3})
            await writer.hset(f"{prefix}:order:b", mapping={"version": 7})
        finally:
            await writer.aclose()
        config = RedisProbeConfig(key=prefix + ":order:{entity}", field="version")
        async with RedisProbe(url, config) as probe:
            observed = await probe.observe(["a", "b", "c"], 42)
        assert observed == [
            Observation("a", 42, 3),
            Observation("b", 42, 7),
            Observation("c", 42, None),
        ]


def assert_one_line(outcome_stderr: str, stdout: str, *starts: str) -> str:
    lines = [line for line in outcome_stderr.splitlines() if line.strip()]
    assert len(lines) == 1, outcome_stderr
    assert "Traceback" not in outcome_stderr
    for secret in (PASSWORD, WRONG):
        assert secret not in outcome_stderr + stdout
    return lines[0]


class TestRefusedOnTheCommandLine:
    @pytest.mark.parametrize(
        ("user", "tls"), [(None, False), (ACL_USER, False), (None, True), ("nobody", True)]
    )
    def test_wrong_password(self, secure_redis: SecureRedis, user: str | None, tls: bool) -> None:
        """A wrong password or an unknown user: exit 2, one line naming it, no password."""
        url = secure_redis.url(tls=tls, user=user, password=WRONG)
        outcome = chaosbus("audit", "--redis", url)
        assert outcome.code == 2
        line = assert_one_line(outcome.stderr, outcome.stdout)
        port = (secure_redis.tls if tls else secure_redis.plain).port
        scheme = "rediss" if tls else "redis"
        assert line.startswith(
            f"chaosbus: Redis at {scheme}://{user or ''}:***@127.0.0.1:{port}/0"
            f"{'?ssl_ca_certs=' if tls else ''}"
        )
        assert "refused the user or password: invalid username-password pair" in line

    def test_no_password(self, secure_redis: SecureRedis) -> None:
        """A URL without the password Redis asks for: exit 2, and the line says none was given."""
        outcome = chaosbus("kill", "--redis", f"redis://127.0.0.1:{secure_redis.plain.port}/0")
        assert outcome.code == 2
        line = assert_one_line(outcome.stderr, outcome.stdout)
        assert "refused a password, and the URL gives none" in line

    def test_user_without_write_permission(self, secure_redis: SecureRedis) -> None:
        """An ACL user without the commands chaosbus needs: `kill` exits 2 naming the first one
        refused (the control plane asks Redis who its user is before anything else)."""
        url = secure_redis.url(user=READER, password=READER_PASSWORD)
        outcome = chaosbus("kill", "--redis", url)
        assert outcome.code == 2
        line = assert_one_line(outcome.stderr, outcome.stdout)
        assert line == (
            f"chaosbus: the Redis user at redis://{READER}:***@127.0.0.1:"
            f"{secure_redis.plain.port}/0 may not run ACL WHOAMI"
        )
        assert READER_PASSWORD not in outcome.stderr + outcome.stdout

    def test_untrusted_certificate(self, secure_redis: SecureRedis) -> None:
        """A CA that did not sign the server's certificate: exit 2, one line naming it."""
        port = secure_redis.tls.port
        other = secure_redis.certificates.other_ca
        url = f"rediss://:{PASSWORD}@127.0.0.1:{port}/0?ssl_ca_certs={other}"
        outcome = chaosbus("unkill", "--redis", url)
        assert outcome.code == 2
        line = assert_one_line(outcome.stderr, outcome.stdout)
        assert line.startswith(f"chaosbus: Redis at rediss://:***@127.0.0.1:{port}/0?ssl_ca_certs=")
        assert "presents a certificate that is not trusted" in line
        assert "CERTIFICATE_VERIFY_FAILED" in line

    def test_ca_from_environment(self, secure_redis: SecureRedis) -> None:
        """CHAOSBUS_REDIS_CA supplies the CA when the URL names none: kill and unkill work."""
        url = f"rediss://:{PASSWORD}@127.0.0.1:{secure_redis.tls.port}/0"
        env = {CA_ENV: str(secure_redis.certificates.ca)}
        killed = chaosbus("kill", "--redis", url, "--actor", "ops", env=env)
        assert (killed.code, killed.stderr) == (0, "")
        assert killed.stdout.startswith("kill switch engaged by default")
        released = chaosbus("unkill", "--redis", url, env=env)
        assert (released.code, released.stdout) == (0, "kill switch released\n")

    def test_run_refused_before_anything_starts(self, secure_redis: SecureRedis) -> None:
        """`run` with a wrong Redis password stops at the control plane: exit 2, one line."""
        url = secure_redis.url(password=WRONG)
        outcome = chaosbus("run", "duplicate-storm", "--redis", url, "--bootstrap", "127.0.0.1:1")
        assert outcome.code == 2
        line = assert_one_line(outcome.stderr, outcome.stdout)
        assert "refused the user or password" in line


class TestRunRefusedByTheProbeRedis:
    async def test_wrong_probe_password(
        self, bootstrap: str, secure_redis: SecureRedis, topic_name: str
    ) -> None:
        """A probe Redis that refuses the password stops the run at its start: InvalidInput
        (exit 2) naming the probe's Redis, its password masked."""
        control = secure_redis.url()
        stage = await make_stage(bootstrap, control, topic_name)
        probe_url = secure_redis.url(tls=True, user=ACL_USER, password=WRONG)
        options = stage.options(probe_redis_url=probe_url)
        with pytest.raises(InvalidInput) as caught:
            await run_experiment(stage.spec("duplicate-storm"), options)
        message = str(caught.value)
        assert message.startswith(
            f"check order-state: Redis at rediss://{ACL_USER}:***@127.0.0.1:"
            f"{secure_redis.tls.port}/0"
        )
        assert "refused the user or password" in message
        assert WRONG not in message


class TestDemoService:
    async def test_wrong_password_refused_at_start(
        self, bootstrap: str, secure_redis: SecureRedis
    ) -> None:
        """A demo service whose Redis refuses the password stops at start, naming it."""
        config = ServiceConfig(
            kind="safe",
            topic="unused",
            kafka=KafkaSettings(bootstrap),
            redis_url=secure_redis.url(password=WRONG),
        )
        with pytest.raises(Unreachable, match=r"refused the user or password") as caught:
            async with LedgerService(config):
                pass
        assert WRONG not in str(caught.value)
        assert WRONG not in repr(config)


class TestSecuredNode:
    def test_secrets_not_on_the_command_line(self, secure_redis: SecureRedis) -> None:
        """The passwords live in an owner-only config file, not in the process list."""
        for node in (secure_redis.plain, secure_redis.tls):
            pid = int(node.pid_file.read_text())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode()
            assert PASSWORD not in cmdline
            assert ACL_PASSWORD not in cmdline
            assert node.secrets_file.stat().st_mode & 0o777 == 0o600
