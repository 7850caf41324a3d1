"""`chaosbus map` from a recorded cluster view: nodes, edges, chokepoints, what was not read,
and its renderings (DOT, text, the offline HTML page)."""

from __future__ import annotations

import shutil

import pytest

from chaosbus.errors import PrerequisiteMissing
from chaosbus.experiment import parse_experiment
from chaosbus.map import render
from chaosbus.map.cluster import ClusterView, Group
from chaosbus.map.graph import build_graph
from chaosbus.map.render import to_dot, to_html, to_text


def view(unread: list[str] | None = None) -> ClusterView:
    return ClusterView(
        "127.0.0.1:9092",
        topics={"orders.nocode": 3, "orders": 3, "audit": 1},
        groups=[
            Group(
                "chaosbus.run",
                "Stable",
                ("chaosbus-interposer",),
                ("orders.nocode",),
                {"orders.nocode": 0},
            ),
            Group("ledger-safe", "Stable", ("ledger-safe",), ("orders",), {"orders": 2}),
            Group(
                "ledger-naive",
                "Stable",
                ("ledger-naive",),
                ("orders",),
                {"orders": 40},
                {"orders": 25},
            ),
            Group("billing", "Stable", ("billing",), ("orders",), {"orders": 0}),
        ],
        unread=unread or [],
    )


def spec() -> object:
    return parse_experiment(
        {
            "name": "storm",
            "hypothesis": "Payments are counted once.",
            "routes": [{"from": "orders.nocode", "to": "orders"}],
            "seed": 1,
            "schedule": {"inject_s": 5},
            "faults": [{"type": "duplicate", "probability": 0.1}],
            "monitor": {
                "source_topic": "orders.nocode",
                "service_group": "ledger-safe",
                "checks": [
                    {"name": "paid", "model": "counter", "probe": {"key": "customer:{entity}:paid"}}
                ],
            },
            "http_routes": [
                {
                    "name": "pricing",
                    "listen": "127.0.0.1:9301",
                    "upstream": "http://127.0.0.1:9300",
                    "faults": [{"type": "error", "probability": 0.5, "status": 503}],
                }
            ],
        }
    )


class TestGraph:
    def test_the_handoffs_from_cluster_and_experiment(self) -> None:
        """automation → orders.nocode → interposer → orders → services → store; HTTP too."""
        graph = build_graph(view(), [spec()])  # type: ignore[list-item]
        edges = {(e.source, e.target, e.label) for e in graph.edges}
        assert ("automation:orders.nocode", "topic:orders.nocode", "publishes") in edges
        assert ("topic:orders.nocode", "group:chaosbus.run", "reads") in edges
        assert ("group:chaosbus.run", "topic:orders", "forwards") in edges
        assert ("group:ledger-safe", "store:storm:paid", "writes") in edges
        # service_group names the probed service: the others are not linked to the store.
        assert ("group:ledger-naive", "store:storm:paid", "writes") not in edges
        assert ("automation:http:pricing", "http:pricing", "calls") in edges
        assert graph.nodes["group:chaosbus.run"].kind == "interposer"
        assert graph.nodes["store:storm:paid"].label == "redis: customer:{entity}:paid"

    def test_chokepoints(self) -> None:
        """Three groups on orders, a growing lag, a service no experiment probes."""
        graph = build_graph(view(), [spec()])  # type: ignore[list-item]
        reasons = {n.id: n.chokepoint for n in graph.chokepoints}
        assert reasons == {
            "topic:orders": "read by 3 groups",
            "group:ledger-naive": "lag growing: orders +25",
            "group:billing": "no experiment probes this service",
        }

    def test_without_experiment_files_every_service_is_unprobed(self) -> None:
        """No file: the cluster alone, every service a chokepoint of coverage."""
        graph = build_graph(view())
        assert graph.nodes["group:ledger-safe"].chokepoint == "no experiment probes this service"
        assert not any(n.kind == "automation" for n in graph.nodes.values())

    def test_what_could_not_be_read_is_drawn(self) -> None:
        """A refused describe is a node naming the broker's reason."""
        graph = build_graph(view(["consumer groups: GroupAuthorizationFailedError: denied"]))
        unread = [n for n in graph.nodes.values() if n.kind == "unread"]
        assert [n.detail for n in unread] == [
            "consumer groups: GroupAuthorizationFailedError: denied"
        ]


class TestRender:
    def test_dot_quotes_and_marks_chokepoints(self) -> None:
        """Labels are quoted (a `"` escaped); a chokepoint gets a red border and its reason."""
        graph = build_graph(view(), [spec()])  # type: ignore[list-item]
        dot = to_dot(graph, 'map "x"')
        assert 'tooltip="map \\"x\\""' in dot
        assert 'color="#dc2626" penwidth=3' in dot
        assert "⚠ read by 3 groups" in dot

    def test_text_form(self) -> None:
        """Each node with its outgoing edges, then chokepoints and what was not read."""
        text = to_text(build_graph(view(["topics: denied"]), [spec()]), "map")  # type: ignore[list-item]
        assert "   orders.nocode (3 partitions) → reads chaosbus.run\n" in text
        assert (
            " ! orders (3 partitions) → reads ledger-safe; reads ledger-naive; reads billing\n"
            in text
        )
        assert "chokepoints:\n  ! orders: read by 3 groups\n" in text
        assert text.endswith("not read (drawn as far as read):\n  ? topics: denied\n")

    @pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
    def test_the_page_is_self_contained(self) -> None:
        """The SVG is inline, nothing is fetched: no src=, no http(s) link but the text."""
        page = to_html(build_graph(view(), [spec()]), "map")  # type: ignore[list-item]
        assert "<svg" in page
        assert "<?xml" not in page
        assert 'id="map_topic_orders"' in page
        assert "src=" not in page
        assert "<link" not in page

    def test_a_missing_dot_is_one_line(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """No Graphviz: the Debian package is named (exit 2 through the CLI)."""
        monkeypatch.setattr(render.shutil, "which", lambda _: None)
        with pytest.raises(PrerequisiteMissing, match="apt-get install graphviz"):
            to_html(build_graph(view()), "map")
