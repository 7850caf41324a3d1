"""Log records on the console of `run` and `demo`: what the user must act on, nothing else."""

from __future__ import annotations

import logging

import pytest
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    GroupCoordinatorNotAvailableError,
    KafkaConnectionError,
    RebalanceInProgressError,
)

from chaosbus.logs import LEVEL_ENV, console_logging

COORDINATOR = logging.getLogger("aiokafka.consumer.group_coordinator")
CLIENT = logging.getLogger("aiokafka")
SESSION = logging.getLogger("chaosbus.runner.observation")


def printed(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return capsys.readouterr().err.splitlines()


class TestKafkaClientNoise:
    def test_a_group_forming_is_not_on_the_console(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The line `make demo` printed while a group formed is lowered to debug."""
        with console_logging():
            COORDINATOR.error(
                "Group Coordinator Request failed: %s", GroupCoordinatorNotAvailableError()
            )
            COORDINATOR.warning("Heartbeat failed for group %s because it is rebalancing", "g-1")
            COORDINATOR.warning("Marking the coordinator dead (node %s)for group %s.", 1, "g-1")
            COORDINATOR.error(
                "OffsetCommit failed for group %s due to group error (%s), will rejoin",
                "g-1",
                RebalanceInProgressError("g-1"),
            )
            CLIENT.error("Unable connect to node with id %s: %s", 1, KafkaConnectionError())
        assert printed(capsys) == []

    def test_debug_shows_what_was_lowered(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """With CHAOSBUS_LOG_LEVEL=DEBUG the lowered line is there, named by its logger."""
        monkeypatch.setenv(LEVEL_ENV, "debug")
        with console_logging():
            COORDINATOR.error(
                "Group Coordinator Request failed: %s", GroupCoordinatorNotAvailableError()
            )
        assert printed(capsys) == [
            "aiokafka.consumer.group_coordinator: Group Coordinator Request failed: "
            "[Error 15] GroupCoordinatorNotAvailableError"
        ]

    def test_what_the_user_must_act_on_still_shows(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """An error the client does not recover from reaches the console, with its logger."""
        with console_logging():
            COORDINATOR.error(
                "OffsetCommit failed for group %s - %s", "g-1", GroupAuthorizationFailedError
            )
            CLIENT.warning("Topic %s not found in cluster metadata", "orders")
        assert printed(capsys) == [
            "aiokafka.consumer.group_coordinator: OffsetCommit failed for group g-1 - "
            "<class 'aiokafka.errors.GroupAuthorizationFailedError'>",
            "aiokafka: Topic orders not found in cluster metadata",
        ]


class TestChaosbusWarnings:
    def test_printed_as_written_and_once_per_thing(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A probe failing on every poll is said once per probe; other warnings as they come."""
        with console_logging():
            for entity in ("o-1", "o-2", "o-1"):
                SESSION.warning("probe %s: %s", "order-state", f"could not read {entity}")
            SESSION.warning("probe %s: %s", "customer-paid", "could not read c-1")
            SESSION.info("run %s started", "r-1")
        assert printed(capsys) == [
            "probe order-state: could not read o-1",
            "probe customer-paid: could not read c-1",
        ]

    def test_a_new_block_says_it_again(self, capsys: pytest.CaptureFixture[str]) -> None:
        """What was said is remembered per command (per block), not for the process."""
        for _ in range(2):
            with console_logging():
                SESSION.warning("aborting: %s", "interrupted by signal")
        assert printed(capsys) == ["aborting: interrupted by signal"] * 2


class TestLifetime:
    def test_the_root_logger_is_left_as_found(self) -> None:
        """Handlers and level of the root logger are restored when the block ends."""
        root = logging.getLogger()
        handlers, level = list(root.handlers), root.level
        with console_logging() as handler:
            assert root.handlers == [*handlers, handler]
        assert (root.handlers, root.level) == (handlers, level)

    def test_an_unknown_level_is_warning(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """CHAOSBUS_LOG_LEVEL=loud is not a level: the console keeps to warnings."""
        monkeypatch.setenv(LEVEL_ENV, "loud")
        with console_logging():
            SESSION.info("run %s started", "r-1")
            SESSION.warning("aborting: %s", "guardrail")
        assert printed(capsys) == ["aborting: guardrail"]
