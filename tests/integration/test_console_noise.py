"""What a newcomer sees of a real `chaosbus run`: whole lines, nothing to ignore.

The phases are lines on stdout; a refusal in preflight is the one line on stderr, never
glued to a status line (`preflightchaosbus: …` once); a run on a broker that has never seen
a consumer group (`make demo` on a fresh machine) shows no
`GroupCoordinatorNotAvailableError` from the Kafka client, which retries while the broker
creates its offsets topic. Each test captures the output of a real process (not a
terminal: a pipe, as in CI).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from aiokafka.admin import AIOKafkaAdminClient

from chaosbus.control import operations
from chaosbus.experiment import with_overrides
from chaosbus.local.stack import LocalStack
from chaosbus.scenarios import load_experiment_or_scenario
from tests.cli_runner import Outcome, chaosbus
from tests.conftest import StackAddresses, start_private_stack
from tests.integration import databases
from tests.integration.databases import flushed
from tests.integration.runner_support import ready_topics
from tests.integration.secure_support import SecureStack
from tests.integration.test_secure_kafka import FILE_DECIDES, edited

pytestmark = pytest.mark.integration

REDIS_DB = databases.CONSOLE_NOISE  # its control plane: the CLI reads the default namespace only
OFFSETS_TOPIC = "__consumer_offsets"
KILL_SWITCH_NOT_RELEASED = (
    "chaosbus: run refused: kill switch engaged: not released (first use: `chaosbus control "
    "init`; after that only an admin's `chaosbus unkill` releases it)"
)


def lines(outcome: Outcome) -> list[str]:
    return outcome.stderr.splitlines()


def phases(outcome: Outcome) -> list[str]:
    """The first word of each stdout line before the verdict table: the phases begun."""
    return [line.split()[0] for line in outcome.stdout.splitlines() if line.strip()]


@pytest.fixture
def control_db(local_stack: StackAddresses) -> str:
    """The module's Redis database, emptied: a control plane never initialised."""
    return asyncio.run(flushed(local_stack.redis_url, REDIS_DB))


class TestStatusLineEndsBeforeAnError:
    def test_kill_switch_refusal(self, control_db: str, bootstrap: str) -> None:
        """Refused by the kill switch: `preflight` on stdout, the refusal alone on stderr."""
        outcome = chaosbus(
            "run", "duplicate-storm", "--bootstrap", bootstrap, "--redis", control_db
        )
        assert (outcome.code, lines(outcome)) == (3, [KILL_SWITCH_NOT_RELEASED])
        assert outcome.stdout == "preflight\n"

    def test_unreachable_broker(self, control_db: str) -> None:
        """No broker at the address: `preflight` on stdout, one line naming the address."""
        asyncio.run(operations.init(control_db, "test"))
        outcome = chaosbus(
            "run", "duplicate-storm", "--bootstrap", "127.0.0.1:1", "--redis", control_db
        )
        assert (outcome.code, lines(outcome)) == (
            2,
            ["chaosbus: no Kafka broker answers at 127.0.0.1:1"],
        )
        assert outcome.stdout == "preflight\n"

    def test_refused_credentials(self, secure_stack: SecureStack, tmp_path: Path) -> None:
        """A refused SASL password: `preflight` on stdout, the refusal naming broker and user."""
        config = edited(
            secure_stack.config_file,
            tmp_path / "c.properties",
            **{"sasl.password": "not-the-password"},
        )
        outcome = chaosbus(
            "run",
            "duplicate-storm",
            "--kafka-config",
            str(config),
            "--redis",
            secure_stack.redis_url,
            env=FILE_DECIDES,
        )
        assert (outcome.code, lines(outcome)) == (
            2,
            [
                f"chaosbus: Kafka at {secure_stack.kafka.bootstrap} refused the "
                "SASL/SCRAM-SHA-512 credentials of user 'chaos'",
            ],
        )
        assert outcome.stdout == "preflight\n"


@pytest.fixture(scope="module")
def fresh_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """A Kafka that no consumer group has used yet: its offsets topic does not exist."""
    stack = start_private_stack(tmp_path_factory.mktemp("fresh-stack"))
    try:
        yield stack
    finally:
        stack.down()


async def topics_of(bootstrap: str) -> set[str]:
    """Every topic, internal ones included; a listing of all never creates one."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return set(await admin.list_topics())
    finally:
        await admin.close()


class TestNoLibraryNoise:
    async def test_first_consumer_group_on_a_fresh_broker(
        self, fresh_broker: LocalStack, tmp_path: Path
    ) -> None:
        """The run that makes the broker create its offsets topic (the client is told the
        group coordinator is not available, and retries) prints its phases and report paths
        only: the phases on stdout, the report paths on stderr. No service and no traffic:
        the run ends `error`, exit 2."""
        status = fresh_broker.status()
        source, destination = "fresh.src", "fresh.dst"
        await ready_topics(status.bootstrap, [source, destination], 3)
        await operations.init(status.redis_url, "test")
        assert OFFSETS_TOPIC not in await topics_of(status.bootstrap)
        spec = with_overrides(
            load_experiment_or_scenario("duplicate-storm"),
            source=source,
            destination=destination,
            schedule={"warmup_s": 1, "inject_s": 1, "recover_s": 1},
            group_id="g-fresh",
            settle_ms=500,
        )
        path = tmp_path / "fresh.yaml"
        doc = spec.model_dump(mode="json", by_alias=True, exclude_none=True)
        path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        report = tmp_path / "run.json"
        outcome = await asyncio.to_thread(
            chaosbus,
            "run",
            str(path),
            "--bootstrap",
            status.bootstrap,
            "--redis",
            status.redis_url,
            "--report",
            str(report),
            env={"CHAOSBUS_LOG_LEVEL": ""},
        )
        assert OFFSETS_TOPIC in await topics_of(status.bootstrap)  # this run made it
        assert outcome.code == 2, outcome.stderr
        said = lines(outcome)
        # The last line says where the history keeps the run (decisions 0290-0293).
        assert said.pop().startswith("history: "), said
        assert phases(outcome)[:5] == ["preflight", "warmup", "inject", "recover", "settle"]
        assert said == [
            f"report: {report}",
            f"report: {report.with_suffix('.md')}",
            f"report: {report.with_suffix('.html')}",
        ]
