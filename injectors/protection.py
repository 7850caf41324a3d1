"""What no route may ever touch, and route graphs that are refused, whatever a file says.

chaosbus's own topics are every topic whose name starts with `chaosbus.`: the ledger
(`chaosbus.ledger`), the exactly-once parked topics (`chaosbus.parked.<group>`), and any
added later. A route that reads one would fault the ledger itself; a route that writes one
would forge decisions the monitors trust. This protection holds by default, with or
without faults, and `blast_radius.protected_topics` adds to it, never replaces it.

Topic names compare case-exactly, as Kafka does: `Chaosbus.ledger` is a different topic
from `chaosbus.ledger`, so it is not protected (docs/limits.md, "Protection").

Routes form a graph from source to destination; a cycle (`a -> b`, `b -> a`, or longer)
sends every message round again, faulted again on each lap, without end.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

OWN_PREFIX = "chaosbus."
LEDGER_TOPIC = f"{OWN_PREFIX}ledger"
PARKED_PREFIX = f"{OWN_PREFIX}parked."

# Kafka's legal topic characters; its length limit is injectors.limits.MAX_TOPIC.
_TOPIC_CHARS = re.compile(r"[A-Za-z0-9._-]+\Z")


def is_own_topic(topic: str, also: Iterable[str] = ()) -> bool:
    """Whether `topic` is chaosbus's own; `also` adds exact names (a configured ledger)."""
    return topic.startswith(OWN_PREFIX) or topic in set(also)


def own_topic_problem(topic: str, also: Iterable[str] = ()) -> str | None:
    """Why a route may not read or write `topic`, or None."""
    if not is_own_topic(topic, also):
        return None
    return f"topic {topic!r} is chaosbus's own ({OWN_PREFIX}*); no route may read or write it"


def topic_name_problem(topic: str) -> str | None:
    """Why `topic` cannot be a Kafka topic name, or None."""
    if topic in (".", ".."):
        return f"{topic!r} is not a topic name"
    if not _TOPIC_CHARS.match(topic):
        return f"{topic!r} is not a topic name (letters, digits, '.', '_' and '-' only)"
    return None


def find_cycle(routes: Sequence[tuple[str, str]]) -> list[str] | None:
    """The first cycle of the route graph as topics `[a, b, …, a]`, or None if acyclic."""
    graph: dict[str, list[str]] = {}
    for source, destination in routes:
        graph.setdefault(source, []).append(destination)
    done: set[str] = set()
    for start in graph:
        if start in done:
            continue
        # Iterative depth-first search: a long chain of routes must not hit the recursion limit.
        path: list[str] = [start]
        on_path = {start}
        stack = [iter(graph.get(start, ()))]
        while stack:
            step = next(stack[-1], None)
            if step is None:
                stack.pop()
                finished = path.pop()
                on_path.discard(finished)
                done.add(finished)
                continue
            if step in on_path:
                return [*path[path.index(step) :], step]
            if step not in done:
                path.append(step)
                on_path.add(step)
                stack.append(iter(graph.get(step, ())))
    return None


def describe_cycle(cycle: Sequence[str]) -> str:
    return " -> ".join(cycle)
