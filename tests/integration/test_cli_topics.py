"""An unknown topic is refused before anything is read or written."""

from __future__ import annotations

import pytest

from tests.cli_runner import chaosbus

pytestmark = pytest.mark.integration


class TestUnknownTopic:
    def test_missing_source_topic(self, bootstrap: str, topic_name: str) -> None:
        """A route from a topic that does not exist: exit 2, the topic and route named."""
        outcome = chaosbus(
            "proxy", "--route", f"{topic_name}:{topic_name}.out", "--bootstrap", bootstrap
        )
        assert outcome.code == 2
        assert outcome.last_error_line == (
            f"chaosbus: source topic '{topic_name}' of route "
            f"{topic_name}->{topic_name}.out does not exist"
        )
