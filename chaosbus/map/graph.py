"""The map of the handoffs: automations → topics → interposers → topics → services → stores.

Built from what the cluster said (`cluster.ClusterView`) and what the experiment files
declare (routes, HTTP routes, probes); pure: no I/O.

- a consumer group is an **interposer** when it carries the chaosbus marker, else a
  **service**; each reads the topics its members are assigned (or it has offsets on);
- an experiment's route draws its interposer's output (`from` → interposer → `to`) and an
  **automation** writing the route's source; its probes are the **stores** of the services
  reading the route's destination (`monitor.service_group` names one exactly); its HTTP
  routes draw automation → proxy → service;
- **chokepoints**: a topic at least `fan_in` groups read, a group whose lag grew between
  samples by `LAG_GROWTH` messages or more, a service no experiment probes;
- what could not be read is a node of its own, named with the broker's reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from chaosbus.experiment.spec import ExperimentSpec
from chaosbus.map.cluster import ClusterView

Kind = Literal["automation", "topic", "interposer", "service", "store", "http", "unread"]
KINDS: tuple[Kind, ...] = (
    "automation",
    "topic",
    "interposer",
    "service",
    "store",
    "http",
    "unread",
)
FAN_IN = 3  # groups reading one topic before it counts as a chokepoint
# Lag that grew by fewer messages between two samples is a healthy consumer's commit
# cadence (a proxy commits every 100 ms), not a consumer falling behind.
LAG_GROWTH = 10


@dataclass(frozen=True)
class Node:
    id: str
    kind: Kind
    label: str
    detail: str = ""
    chokepoint: str | None = None  # why, when it is one


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    label: str = ""


@dataclass
class Graph:
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)

    def add(self, node: Node) -> str:
        known = self.nodes.get(node.id)
        if known is None or (node.chokepoint and not known.chokepoint):
            self.nodes[node.id] = node
        return node.id

    def link(self, source: str, target: str, label: str = "") -> None:
        edge = Edge(source, target, label)
        if edge not in self.edges:
            self.edges.append(edge)

    @property
    def chokepoints(self) -> list[Node]:
        return [n for n in self.nodes.values() if n.chokepoint]


def topic_id(name: str) -> str:
    return f"topic:{name}"


def build_graph(
    view: ClusterView, specs: Sequence[ExperimentSpec] = (), *, fan_in: int = FAN_IN
) -> Graph:
    graph = Graph()
    readers: dict[str, list[str]] = {}
    for group in view.groups:
        for topic in group.reads:
            readers.setdefault(topic, []).append(group.name)
    for name, partitions in view.topics.items():
        many = len(readers.get(name, ())) >= fan_in
        graph.add(
            Node(
                topic_id(name),
                "topic",
                name,
                f"{partitions} partitions",
                f"read by {len(readers[name])} groups" if many else None,
            )
        )
    probed = _probed_services(view, specs)
    for group in view.groups:
        kind: Kind = "interposer" if group.looks_like_interposer else "service"
        growing = {t: g for t, g in group.lag_growth.items() if g >= LAG_GROWTH}
        why = None
        if growing:
            why = "lag growing: " + ", ".join(f"{t} +{g}" for t, g in sorted(growing.items()))
        elif kind == "service" and group.name not in probed:
            why = "no experiment probes this service"
        lag = "\n".join(f"lag {n} on {t}" for t, n in sorted(group.lag.items()))
        members = f"{len(group.clients)} members" if group.clients else "no live member"
        node = graph.add(
            Node(
                f"group:{group.name}",
                kind,
                group.name,
                f"{group.state}, {members}" + (f"\n{lag}" if lag else ""),
                why,
            )
        )
        for topic in group.reads:
            graph.link(topic_id(topic), node, "reads")
    for spec in specs:
        _add_experiment(graph, view, spec)
    for index, what in enumerate(view.unread):
        graph.add(Node(f"unread:{index}", "unread", "not read", what))
    return graph


def _probed_services(view: ClusterView, specs: Sequence[ExperimentSpec]) -> set[str]:
    """Service groups some experiment's checks read the state of."""
    out: set[str] = set()
    for spec in specs:
        if not spec.monitor.checks:
            continue
        if spec.monitor.service_group is not None:
            out.add(spec.monitor.service_group)
            continue
        destinations = {r.destination for r in spec.routes}
        out |= {
            g.name
            for g in view.groups
            if not g.looks_like_interposer and destinations & set(g.reads)
        }
    return out


def _add_experiment(graph: Graph, view: ClusterView, spec: ExperimentSpec) -> None:
    for route in spec.routes:
        source, destination = topic_id(route.source), topic_id(route.destination)
        for name in (route.source, route.destination):
            if topic_id(name) not in graph.nodes:
                graph.add(Node(topic_id(name), "topic", name, "not in the cluster"))
        automation = graph.add(
            Node(
                f"automation:{route.source}",
                "automation",
                "automation",
                f"writes {route.source}, {spec.name}",
            )
        )
        graph.link(automation, source, "publishes")
        live = [g for g in view.groups if g.looks_like_interposer and route.source in g.reads]
        interposers = [f"group:{g.name}" for g in live] or [
            graph.add(
                Node(
                    f"route:{spec.name}:{route.source}",
                    "interposer",
                    f"route of {spec.name}",
                    "declared, no live interposer",
                )
            )
        ]
        for node in interposers:
            graph.link(source, node, "reads")
            graph.link(node, destination, "forwards")
        services = [
            g.name
            for g in view.groups
            if not g.looks_like_interposer
            and route.destination in g.reads
            and (spec.monitor.service_group in (None, g.name))
        ]
        for check in spec.monitor.checks:
            store = graph.add(
                Node(
                    f"store:{spec.name}:{check.name}",
                    "store",
                    _probe_label(check.probe),
                    f"{check.model} check {check.name}",
                )
            )
            for service in services:
                graph.link(f"group:{service}", store, "writes")
    for http_route in spec.http_routes:
        automation = graph.add(
            Node(
                f"automation:http:{http_route.name}",
                "automation",
                "automation",
                f"calls {http_route.listen}, {spec.name}",
            )
        )
        proxy = graph.add(
            Node(
                f"http:{http_route.name}",
                "http",
                f"chaosbus http {http_route.name}",
                f"{http_route.listen} → {http_route.upstream}",
            )
        )
        upstream = graph.add(
            Node(f"service:http:{http_route.upstream}", "service", http_route.upstream, "HTTP")
        )
        graph.link(automation, proxy, "calls")
        graph.link(proxy, upstream, "forwards")


def _probe_label(probe: object) -> str:
    kind = getattr(probe, "kind", "redis")
    where = (
        getattr(probe, "key", None)
        or getattr(probe, "url", None)
        or getattr(probe, "topic", None)
        or getattr(probe, "query", None)
        or ""
    )
    return f"{kind}: {str(where)[:60]}"
