"""Dead letters are routes (issue 21, reproduction 7), on a real broker through the real
command line: a dead letter into the route's own source, into chaosbus's ledger, into a
protected topic or into a topic that does not exist is refused (exit 2) before a message is
read, where it used to be accepted (a 1.5 KB message dead-lettered to its own source became
1,488 messages in 5 s; two messages landed in a protected topic)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml

from chaosbus.clients.connection import KafkaSettings
from chaosbus.streams.topics import TopicAdmin
from tests.cli_runner import chaosbus

pytestmark = pytest.mark.integration

# Long enough for a proxy that was accepted to be seen running (the old behaviour).
TIMEOUT_S = 40


def topics(bootstrap: str, *names: str) -> None:
    async def create() -> None:
        async with TopicAdmin(KafkaSettings(bootstrap)) as admin:
            for name in names:
                await admin.create(name, 1)

    asyncio.run(create())


def proxy(bootstrap: str, routes: list[str], dead_letter: str, *more: str) -> tuple[int, str]:
    args = [arg for route in routes for arg in ("--route", route)]
    outcome = chaosbus(
        "proxy",
        *args,
        *("--bootstrap", bootstrap, "--on-undeliverable", f"dead_letter:{dead_letter}"),
        *more,
        timeout_s=TIMEOUT_S,
    )
    return outcome.code, outcome.last_error_line


class TestProxyFlags:
    def test_into_its_own_source(self, bootstrap: str, topic_name: str) -> None:
        """The loop of reproduction 7 is refused in one line naming the flag."""
        src, dst = f"{topic_name}.src", f"{topic_name}.dst"
        topics(bootstrap, src, dst)
        code, line = proxy(bootstrap, [f"{src}:{dst}"], src)
        assert code == 2
        assert line == (
            f"chaosbus: --on-undeliverable dead_letter:{src} (route {src}:{dst}): topic "
            f"'{src}' is the route's own source: each refused message would be read again, "
            "refused again and dead-lettered again, without end"
        )

    def test_into_another_routes_source_or_the_ledger(
        self, bootstrap: str, topic_name: str
    ) -> None:
        """Another route's source, and chaosbus's ledger, are refused alike."""
        a, b, c, d = (f"{topic_name}.{x}" for x in "abcd")
        topics(bootstrap, a, b, c, d)
        code, line = proxy(bootstrap, [f"{a}:{b}", f"{c}:{d}"], c)
        assert code == 2
        assert "is the source of another route" in line
        code, line = proxy(bootstrap, [f"{a}:{b}"], "chaosbus.ledger")
        assert code == 2
        assert "chaosbus's own" in line

    def test_into_a_protected_topic(self, bootstrap: str, topic_name: str, tmp_path: Path) -> None:
        """The fault file's protected topics cover the dead letter as they cover the
        destination."""
        src, dst, dlq = f"{topic_name}.src", f"{topic_name}.dst", f"pay-{topic_name}.dlq"
        topics(bootstrap, src, dst, dlq)
        faults = tmp_path / "faults.yaml"
        faults.write_text(
            yaml.safe_dump(
                {
                    "faults": [{"type": "duplicate", "probability": 0.5}],
                    "blast_radius": {"protected_topics": ["pay-*"]},
                }
            )
        )
        code, line = proxy(bootstrap, [f"{src}:{dst}"], dlq, "--fault", str(faults), "--seed", "1")
        assert code == 2
        assert f"topic '{dlq}' matches protected glob 'pay-*'" in line

    def test_a_dead_letter_that_does_not_exist(self, bootstrap: str, topic_name: str) -> None:
        """Checked with the route's topics; never created by the broker's defaults."""
        src, dst = f"{topic_name}.src", f"{topic_name}.dst"
        topics(bootstrap, src, dst)
        code, line = proxy(bootstrap, [f"{src}:{dst}"], f"{topic_name}.nowhere")
        assert code == 2
        assert line.startswith(
            f"chaosbus: dead-letter topic '{topic_name}.nowhere' of route {src}->{dst} does "
            "not exist"
        )


class TestExperimentFile:
    @pytest.mark.parametrize(
        ("dead_letter", "says"),
        [("chaosbus.ledger", "chaosbus's own"), ("orders.nocode", "the route's own source")],
    )
    def test_validate_refuses(self, dead_letter: str, says: str, tmp_path: Path) -> None:
        """`validate` names the path of the dead letter in the file."""
        doc = yaml.safe_load(
            (
                Path(__file__).resolve().parents[2] / "chaosbus/scenarios/duplicate-storm.yaml"
            ).read_text()
        )
        doc["routes"][0]["on_undeliverable"] = {"dead_letter": dead_letter}
        path = tmp_path / "exp.yaml"
        path.write_text(yaml.safe_dump(doc))
        outcome = chaosbus("validate", str(path))
        assert outcome.code == 2
        assert f"routes[0].on_undeliverable.dead_letter: topic '{dead_letter}'" in outcome.stderr
        assert says in outcome.stderr
