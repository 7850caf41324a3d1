"""Protection by default: chaosbus's own topics and route cycles, in files and on the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from chaosbus.cli import app
from chaosbus.clients.connection import KafkaSettings
from chaosbus.contracts.ledger_record import LEDGER_TOPIC as STREAMS_LEDGER_TOPIC
from chaosbus.errors import InvalidInput
from chaosbus.injectors.protection import LEDGER_TOPIC, find_cycle, is_own_topic, topic_name_problem
from chaosbus.standalone.topics import build_proxy, parse_routes
from chaosbus.streams.exactly_once.parked import parked_topic


class TestOwnTopics:
    def test_every_internal_topic_is_own(self) -> None:
        """The ledger and every parked topic fall under the one notion of own topics."""
        assert STREAMS_LEDGER_TOPIC == LEDGER_TOPIC == "chaosbus.ledger"
        assert is_own_topic(LEDGER_TOPIC)
        assert is_own_topic(parked_topic("chaosbus.run"))
        assert is_own_topic("chaosbus.anything-added-later")

    def test_case_exact(self) -> None:
        """Kafka topic names are case-sensitive, and so is the protection."""
        assert not is_own_topic("Chaosbus.ledger")
        assert not is_own_topic("CHAOSBUS.LEDGER")
        assert not is_own_topic("chaosbus_ledger")

    def test_extra_exact_names(self) -> None:
        """A configured ledger topic outside the prefix is protected by its exact name."""
        assert is_own_topic("audit.ledger", also=("audit.ledger",))
        assert not is_own_topic("audit.ledger2", also=("audit.ledger",))

    def test_topic_names(self) -> None:
        """Kafka's legal characters only; '.' and '..' are not names."""
        assert topic_name_problem("orders.v1_b-2") is None
        assert topic_name_problem("..") == "'..' is not a topic name"
        assert topic_name_problem("a/b") is not None


class TestCycles:
    def test_two_and_three_topic_cycles_are_named(self) -> None:
        """The cycle is returned as the topics walked, back to the first."""
        assert find_cycle([("a", "b"), ("b", "a")]) == ["a", "b", "a"]
        assert find_cycle([("x", "a"), ("a", "b"), ("b", "c"), ("c", "a")]) == [
            "a",
            "b",
            "c",
            "a",
        ]

    def test_chains_and_fan_in_are_not_cycles(self) -> None:
        """a -> b -> c and two sources into one destination are acyclic."""
        assert find_cycle([("a", "b"), ("b", "c")]) is None
        assert find_cycle([("a", "c"), ("b", "c")]) is None

    def test_a_long_chain_does_not_recurse(self) -> None:
        """Five thousand chained routes are walked without the recursion limit."""
        chain = [(f"t{i}", f"t{i + 1}") for i in range(5_000)]
        assert find_cycle(chain) is None
        assert find_cycle([*chain, ("t5000", "t0")]) == [*(f"t{i}" for i in range(5_001)), "t0"]


class TestProxyRoutes:
    @pytest.mark.parametrize(
        ("routes", "message"),
        [
            (
                ["orders:chaosbus.ledger"],
                "--route orders:chaosbus.ledger: topic 'chaosbus.ledger' is chaosbus's own "
                "(chaosbus.*); no route may read or write it",
            ),
            (
                ["chaosbus.parked.g:orders"],
                "--route chaosbus.parked.g:orders: topic 'chaosbus.parked.g' is chaosbus's own "
                "(chaosbus.*); no route may read or write it",
            ),
            (["a:b", "b:a"], "--route: routes form a cycle: a -> b -> a"),
            (["a:b", "a:c"], "--route: source topic 'a' feeds more than one route"),
        ],
    )
    def test_refused(self, routes: list[str], message: str) -> None:
        """Own topics, cycles and a source read twice are refused, one line each."""
        with pytest.raises(InvalidInput) as caught:
            parse_routes(routes)
        assert str(caught.value) == message

    def test_the_configured_ledger_is_protected(self) -> None:
        """A proxy writing its ledger elsewhere protects that exact topic too."""
        with pytest.raises(InvalidInput, match="'my-ledger' is chaosbus's own"):
            parse_routes(["orders:my-ledger"], ledger_topic="my-ledger")

    def test_cli_exits_2_before_connecting(self) -> None:
        """`chaosbus proxy --route x:chaosbus.ledger` is exit 2, without any broker."""
        result = CliRunner().invoke(
            app, ["proxy", "--route", "x:chaosbus.ledger", "--bootstrap", "127.0.0.1:9"]
        )
        assert result.exit_code == 2
        assert result.stderr.strip() == (
            "chaosbus: --route x:chaosbus.ledger: topic 'chaosbus.ledger' is chaosbus's own "
            "(chaosbus.*); no route may read or write it"
        )

    def test_case_differs_is_accepted(self) -> None:
        """`Chaosbus.ledger` is another Kafka topic, so a route may write it."""
        assert [r.destination for r in parse_routes(["x:Chaosbus.ledger"])] == ["Chaosbus.ledger"]


class TestHoldingLimit:
    def test_the_fault_file_sets_the_interposers_holding_limit(self, tmp_path: Path) -> None:
        """blast_radius.max_held_messages of a --fault file is the proxy's holding limit."""
        path = tmp_path / "faults.yaml"
        path.write_text(
            "seed: 1\nblast_radius: {max_held_messages: 500}\n"
            "faults: [{type: reorder, probability: 0.1, window: 500, within_ms: 100}]\n"
        )
        proxy = build_proxy(
            routes=["a:b"],
            kafka=KafkaSettings("127.0.0.1:9"),
            group_id="g",
            run_id="r",
            create_topics=False,
            ledger=False,
            start_from="earliest",
            fault_file=path,
            seed=None,
            event_id_header=None,
        )
        assert proxy.config.max_held_messages == 500
