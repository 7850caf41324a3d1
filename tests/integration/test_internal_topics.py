"""The topics chaosbus creates take the policy's replication, retention and cleanup."""

from __future__ import annotations

import asyncio

import pytest

from chaosbus.clients.connection import KafkaSettings
from chaosbus.contracts.routes import Route
from chaosbus.streams.exactly_once.parked_store import ensure_parked_topic
from chaosbus.streams.interposer import InterposerConfig
from chaosbus.streams.proxy import Proxy
from chaosbus.streams.topics import TopicAdmin, TopicPolicy
from chaosbus.testing import create_topics, poll_until
from tests.cli_runner import chaosbus

pytestmark = pytest.mark.integration


async def visible(admin: TopicAdmin, topics: list[str]) -> None:
    # Topic metadata reaches every broker in the cluster's own time: nothing to await.
    counts = await poll_until(
        lambda: admin.partition_counts(topics),
        lambda found: set(topics) <= found.keys(),
        timeout_s=10,
        every_s=0.1,
    )
    if not set(topics) <= counts.keys():
        raise TimeoutError(f"topics {topics} not visible")


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "chaosbus.streams.topics"]


class TestTopicPolicy:
    async def test_created_topics_follow_the_policy(self, bootstrap: str, topic_name: str) -> None:
        """Ledger: delete after its retention; parked: compacted; destination: the source's
        partitions; every one with the broker's default replication factor."""
        source, destination = f"{topic_name}.src", f"{topic_name}.dst"
        ledger, parked = f"{topic_name}.ledger", f"{topic_name}.parked"
        await create_topics(bootstrap, [source], 4)
        policy = TopicPolicy(ledger_retention_ms=3_600_000)
        config = InterposerConfig(
            kafka=KafkaSettings(bootstrap), run_id="policy", ledger_topic=ledger, topics=policy
        )
        counts = await Proxy([Route(source, destination)], config, create_topics=True).prepare()
        await ensure_parked_topic(KafkaSettings(bootstrap), parked, policy)
        assert counts == {source: 4, destination: 4}
        async with TopicAdmin(KafkaSettings(bootstrap)) as admin:
            default = await admin.broker_default_replication()
            await visible(admin, [ledger, parked, destination])
            assert await admin.partition_counts([ledger, parked, destination]) == {
                ledger: 3,
                parked: 1,
                destination: 4,
            }
            assert await admin.replication_factors([ledger, parked, destination]) == {
                ledger: default,
                parked: default,
                destination: default,
            }
            ledger_config = await admin.topic_config(ledger)
            parked_config = await admin.topic_config(parked)
        assert (ledger_config["cleanup.policy"], ledger_config["retention.ms"]) == (
            "delete",
            "3600000",
        )
        assert parked_config["cleanup.policy"] == "compact"

    async def test_an_existing_topic_is_left_as_it_is(
        self, bootstrap: str, topic_name: str, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A topic that exists is not an error and is not changed; with fewer replicas than
        the policy asks, a warning says so."""
        await create_topics(bootstrap, [topic_name], 2)
        async with TopicAdmin(KafkaSettings(bootstrap)) as admin:
            await visible(admin, [topic_name])
            await admin.ensure(topic_name, TopicPolicy().shape("ledger"))
            assert warnings(caplog) == []
            await admin.ensure(topic_name, TopicPolicy(replication_factor=3).shape("ledger"))
            assert await admin.partition_counts([topic_name]) == {topic_name: 2}
            have = (await admin.replication_factors([topic_name]))[topic_name]
        assert warnings(caplog) == [
            f"topic {topic_name} exists with replication factor {have}, fewer than 3: chaosbus "
            "does not alter it (kafka-reassign-partitions.sh can)"
        ]

    async def test_more_replicas_than_brokers_is_one_line(
        self, bootstrap: str, topic_name: str
    ) -> None:
        """A replication factor the cluster cannot hold: the broker's reason, exit 2."""
        source = f"{topic_name}.src"
        await create_topics(bootstrap, [source], 1)
        outcome = await asyncio.to_thread(
            chaosbus,
            "proxy",
            "--route",
            f"{source}:{topic_name}.dst",
            "--bootstrap",
            bootstrap,
            "--create-topics",
            "--replication-factor",
            "7",
        )
        assert outcome.code == 2
        assert outcome.last_error_line.startswith(
            f"chaosbus: cannot create topic '{topic_name}.dst': Unable to replicate the "
            "partition 7 time(s)"
        )
