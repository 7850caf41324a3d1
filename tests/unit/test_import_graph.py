"""The import graph of the shipped code: layers import downward only and nothing imports in
a cycle, counting imports made only for type checking (a cycle hidden behind
`TYPE_CHECKING` is still two modules that cannot be understood apart)."""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("chaosbus", "chaosbus_demo")

# The layers below the app shell and what each may import besides itself: the pure fault
# model; the contracts every runtime reads (ledger record, clock, route, record→envelope);
# the clients (Kafka and Redis connections); then the stream runtime and the monitors, side
# by side: monitors read the contracts, never the runtime. Everything else in `chaosbus` is
# the app shell, which may import any layer.
ALLOWED = {
    "chaosbus.injectors": (),
    "chaosbus.contracts": ("chaosbus.injectors",),
    "chaosbus.clients": ("chaosbus.injectors", "chaosbus.contracts"),
    "chaosbus.streams": ("chaosbus.injectors", "chaosbus.contracts", "chaosbus.clients"),
    "chaosbus.monitors": ("chaosbus.injectors", "chaosbus.contracts", "chaosbus.clients"),
}
LAYERS = tuple(ALLOWED)


def modules() -> dict[str, Path]:
    """Every module of the shipped packages by dotted name (symlinked layers followed)."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for folder, _, files in os.walk(ROOT / package, followlinks=True):
            for file in files:
                if not file.endswith(".py"):
                    continue
                path = Path(folder) / file
                parts = list(path.relative_to(ROOT).with_suffix("").parts)
                if parts[-1] == "__init__":
                    parts.pop()
                found[".".join(parts)] = path
    return found


def imports_of(name: str, path: Path, known: dict[str, Path]) -> Iterator[str]:
    """The shipped modules `name` imports, at any depth of its body."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            # `from package import name`: the submodule when `name` is one, else the package.
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                yield target


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: set(imports_of(name, path, known)) for name, path in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted(found)


def in_package(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


class TestImportGraph:
    def test_the_graph_sees_every_layer(self) -> None:
        """The walk follows the symlinked layers: each has its modules in the graph."""
        names = modules()
        for layer in LAYERS:
            assert sum(in_package(name, layer) for name in names) > 5, layer

    def test_no_import_cycle(self) -> None:
        """No two shipped modules import each other, directly or around a loop."""
        assert cycles(graph()) == []

    def test_layers_import_downward(self) -> None:
        """Each layer imports itself and the layers `ALLOWED` names only: never the app
        shell above it, and monitors never the stream runtime."""
        wrong = []
        for module, targets in graph().items():
            layer = next((lay for lay in LAYERS if in_package(module, lay)), None)
            if layer is None:
                continue
            for target in targets:
                if target == "chaosbus":  # the root package: its version, nothing else
                    continue
                if not any(in_package(target, ok) for ok in (layer, *ALLOWED[layer])):
                    wrong.append(f"{module} -> {target}")
        assert sorted(wrong) == []
