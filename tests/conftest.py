"""Fixtures: the real local stack for integration tests, started by the same code as the CLI.

When CHAOSBUS_BOOTSTRAP and CHAOSBUS_REDIS name a stack that answers (as `.ci/run` arranges),
the tests use it; otherwise the session starts its own Kafka and redis-server on free
loopback ports under a temporary home, sharing the Maven jar cache, and stops them at the end.
PostgreSQL likewise: CHAOSBUS_POSTGRES when it answers, else a private cluster, started only
when a test asks for `postgres_dsn`. Runs recorded by the CLI go to a history of the session
(CHAOSBUS_HISTORY), never to the developer's own.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from chaosbus.local.postgres_node import PostgresNode, postgres_answers
from chaosbus.local.stack import LocalStack, default_cache
from chaosbus.testing import free_port_pair, stack_from_environment, unique_topic
from tests.integration.secure_support import SecureStack, start_secure_stack


@dataclass(frozen=True)
class StackAddresses:
    bootstrap: str
    redis_url: str


def start_private_stack(home: Path) -> LocalStack:
    stack = LocalStack(
        home=home, cache=default_cache(), kafka_port=free_port_pair(), redis_port=free_port_pair()
    )
    stack.up()
    return stack


@pytest.fixture(scope="session", autouse=True)
def _history_of_the_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Runs the tests make through the CLI are recorded in a history of the session's own,
    not in the developer's `~/.chaosbus/history.sqlite` (unless CHAOSBUS_HISTORY says where)."""
    if os.environ.get("CHAOSBUS_HISTORY"):
        yield
        return
    os.environ["CHAOSBUS_HISTORY"] = str(tmp_path_factory.mktemp("history") / "history.sqlite")
    try:
        yield
    finally:
        os.environ.pop("CHAOSBUS_HISTORY", None)


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackAddresses]:
    """A running Kafka and Redis for the whole session."""
    existing = asyncio.run(stack_from_environment())
    if existing is not None:
        yield StackAddresses(*existing)
        return
    stack = start_private_stack(tmp_path_factory.mktemp("stack"))
    status = stack.status()
    try:
        yield StackAddresses(status.bootstrap, status.redis_url)
    finally:
        stack.down()


@pytest.fixture(scope="session")
def secure_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureStack]:
    """A private Kafka (with its SASL_SSL listener) and Redis, started for these tests only."""
    stack, secure = start_secure_stack(tmp_path_factory.mktemp("secure-stack"))
    try:
        yield secure
    finally:
        stack.down()


@pytest.fixture(scope="session")
def postgres_dsn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A running PostgreSQL for the whole session: CHAOSBUS_POSTGRES, else a private one."""
    existing = os.environ.get("CHAOSBUS_POSTGRES")
    if existing and postgres_answers(existing):
        yield existing
        return
    node = PostgresNode(home=tmp_path_factory.mktemp("postgres"), port=free_port_pair())
    node.start()
    try:
        yield node.dsn
    finally:
        node.stop()
        node.remove()


@pytest.fixture
def bootstrap(local_stack: StackAddresses) -> str:
    return local_stack.bootstrap


@pytest.fixture
def redis_url(local_stack: StackAddresses) -> str:
    return local_stack.redis_url


@pytest.fixture
def topic_name(request: pytest.FixtureRequest) -> str:
    """A fresh topic name per test, readable in broker logs."""
    stem = request.node.name.replace("[", "-").replace("]", "")[:40]
    return unique_topic(stem)
