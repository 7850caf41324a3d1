"""chaosbus through a SASL_SSL listener (SCRAM-SHA-512, mutual TLS) of a real Kafka 4.1 node."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest

from chaosbus.contracts.routes import Route
from chaosbus.local.certs import make_certificates
from chaosbus.streams.interposer import InterposerConfig
from chaosbus.streams.proxy import Proxy
from chaosbus.testing import Message, create_topics, produce, read_all, wait_for_count
from tests.cli_runner import chaosbus
from tests.integration.runner_support import make_stage, run_against
from tests.integration.secure_support import SecureStack

pytestmark = pytest.mark.integration

MESSAGES = 500


def edited(config: Path, out: Path, **changes: str) -> Path:
    """A copy of the generated client.properties with some properties replaced."""
    lines = []
    for line in config.read_text().splitlines():
        name = line.partition("=")[0]
        lines.append(f"{name}={changes[name]}" if name in changes else line)
    out.write_text("\n".join(lines) + "\n")
    return out


class TestProxyThroughSaslSsl:
    async def test_forwards_every_message_exactly(
        self, secure_stack: SecureStack, topic_name: str
    ) -> None:
        """500 messages pass the proxy through SASL_SSL once each, keys and values intact."""
        kafka = secure_stack.kafka
        source, destination = f"{topic_name}.src", f"{topic_name}.dst"
        await create_topics(kafka, [source, destination], 3)
        sent = [Message(key=f"k{i % 7}".encode(), value=f"v{i}".encode()) for i in range(MESSAGES)]
        await produce(kafka, source, sent)

        config = InterposerConfig(kafka=kafka, run_id="secure", group_id=f"g-{topic_name}")
        stopping = asyncio.Event()
        task = asyncio.create_task(Proxy([Route(source, destination)], config).run(stopping))
        assert await wait_for_count(kafka, destination, MESSAGES, timeout_s=120) == MESSAGES
        stopping.set()
        report = await task

        forwarded = await read_all(kafka, destination)
        assert sorted((r.key, r.value) for r in forwarded) == sorted((m.key, m.value) for m in sent)
        assert report.counts["pass"] == MESSAGES


class TestExperimentThroughSaslSsl:
    async def test_duplicate_storm_holds_for_the_safe_service(
        self, secure_stack: SecureStack, topic_name: str
    ) -> None:
        """A whole run (preflight, proxy, readers, ledger, verdict) over SASL_SSL: held."""
        stage = await make_stage(secure_stack.kafka, secure_stack.redis_url, topic_name)
        # Every client's first connection costs a TLS handshake and a SCRAM exchange; on a
        # loaded machine the service lags for the first seconds. The library's 5 s warm-up
        # (not the 1 s of the plaintext tests) keeps that start-up out of the steady state.
        schedule = {"warmup_s": 5, "inject_s": 3, "recover_s": 3}
        # Traffic must outlast the longer warm-up, or the injection phase sees none: 60/s for
        # the whole 11 s schedule.
        spec = stage.spec("duplicate-storm", schedule=schedule)
        report = await run_against(stage, "safe", spec, events=660)
        assert report.status == "held", report.reason
        assert report.exit_code == 0
        assert report.faults["duplicate"] > 0
        assert report.anomalies.total == 0


# The file's bootstrap.servers must decide: CI exports the plain local stack's address, and
# CHAOSBUS_BOOTSTRAP wins over the file (as documented), so it is blanked here.
FILE_DECIDES = {"CHAOSBUS_BOOTSTRAP": ""}


class TestRefusalsOnTheCommandLine:
    def test_wrong_password(self, secure_stack: SecureStack, tmp_path: Path) -> None:
        """A wrong password: exit 2, one line naming the broker, mechanism and user, no secret."""
        config = edited(
            secure_stack.config_file,
            tmp_path / "c.properties",
            **{"sasl.password": "not-the-password"},
        )
        outcome = chaosbus(
            "proxy", "--route", "a:b", "--kafka-config", str(config), env=FILE_DECIDES
        )
        assert outcome.code == 2
        assert outcome.last_error_line == (
            f"chaosbus: Kafka at {secure_stack.kafka.bootstrap} refused the SASL/SCRAM-SHA-512 "
            "credentials of user 'chaos'"
        )
        assert "not-the-password" not in outcome.stdout + outcome.stderr
        assert "Traceback" not in outcome.stderr

    def test_unknown_mechanism(self, secure_stack: SecureStack) -> None:
        """A mechanism chaosbus does not speak: exit 2 before connecting, naming the property."""
        outcome = chaosbus(
            "run",
            "duplicate-storm",
            "--dry-run",
            "--kafka-config",
            str(secure_stack.config_file),
            env={**FILE_DECIDES, "CHAOSBUS_KAFKA_SASL_MECHANISM": "GSSAPI"},
        )
        assert outcome.code == 2
        assert outcome.last_error_line == (
            "chaosbus: CHAOSBUS_KAFKA_SASL_MECHANISM: sasl.mechanism=GSSAPI is not supported "
            "(PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)"
        )

    def test_untrusted_certificate(self, secure_stack: SecureStack, tmp_path: Path) -> None:
        """Another CA of the same name: exit 2, one line naming the CA file and the failure."""
        other = make_certificates(tmp_path / "other-ca")
        config = edited(
            secure_stack.config_file,
            tmp_path / "c.properties",
            **{"ssl.ca.location": str(other.ca)},
        )
        outcome = chaosbus(
            "check",
            "duplicate-storm",
            "--run-id",
            "x",
            "--kafka-config",
            str(config),
            env=FILE_DECIDES,
        )
        assert outcome.code == 2
        assert outcome.last_error_line == (
            f"chaosbus: Kafka at {secure_stack.kafka.bootstrap}: its TLS certificate is not "
            f"trusted by the CA in {other.ca} (certificate signature failure)"
        )

    def test_plain_user_over_the_same_listener(self, secure_stack: SecureStack) -> None:
        """The PLAIN user of the listener is accepted too: the dry run passes its preflight."""
        outcome = chaosbus(
            "run",
            "duplicate-storm",
            "--dry-run",
            "--kafka-config",
            str(secure_stack.config_file),
            "--redis",
            secure_stack.redis_url,
            env={**FILE_DECIDES, "CHAOSBUS_KAFKA_SASL_MECHANISM": "PLAIN"},
        )
        assert "refused" not in outcome.stderr
        assert outcome.last_error_line.startswith("chaosbus: source topic"), outcome.stderr


def test_settings_repr_hides_the_password(secure_stack: SecureStack) -> None:
    """The generated settings never show their password in repr."""
    kafka = replace(secure_stack.kafka)
    assert kafka.sasl_password is not None
    assert kafka.sasl_password not in repr(kafka)
