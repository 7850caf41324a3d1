"""The demo's choice between a given cluster and the local stack, with a Kafka client config."""

from __future__ import annotations

from pathlib import Path

import pytest

from chaosbus.errors import InvalidInput
from chaosbus_demo.infra import broker_and_redis


class TestBrokerAndRedis:
    async def test_kafka_config_without_redis_is_refused(self, tmp_path: Path) -> None:
        """--kafka-config names an outside cluster, so the demo needs --redis with it."""
        with pytest.raises(InvalidInput) as caught:
            async with broker_and_redis(
                None, None, say=lambda _: None, kafka_config=tmp_path / "client.properties"
            ):
                pass
        assert str(caught.value) == (
            "give --redis with --bootstrap or --kafka-config, or none of them (the demo then "
            "starts the local stack)"
        )

    async def test_a_broken_kafka_config_is_one_line(self, tmp_path: Path) -> None:
        """A config the demo cannot use fails before anything starts, naming the property."""
        config = tmp_path / "client.properties"
        config.write_text("bootstrap.servers=k:1\nsasl.mechanism=OAUTHBEARER\n")
        with pytest.raises(InvalidInput, match=r"sasl\.mechanism=OAUTHBEARER is not supported"):
            async with broker_and_redis(
                None, "redis://127.0.0.1:1/0", say=lambda _: None, kafka_config=config
            ):
                pass
