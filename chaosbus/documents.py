"""The one YAML loader: every document chaosbus reads, read once, the same way.

    load_document(path, parse, invalid)   read a file, then `parse` the data it holds
    parse_document(text, origin, …)       the same for text already read (a shipped scenario)
    load_fault_file / load_http_fault_file    the fault files of `proxy --fault`, `http --fault`

`chaosbus.experiment.load_experiment` binds the same loader to experiment files. Reading is
I/O and stays here, in the app shell; validating an already-read document is pure and stays
with its spec (`injectors.spec.parse_fault_document`, `injectors.http.spec`,
`experiment.loader.parse_experiment`). Each kind wraps `DocumentError` in its own error type
(`invalid`): a problem here is one line naming the line and column, or the file itself.
Nothing a file can contain reaches the caller as another exception (docs/limits.md, "The
document"):

- at most `MAX_FILE_BYTES`, UTF-8, one document;
- keys are scalars given once (`? [a, b]` and a repeated key are refused);
- at most `MAX_DEPTH` levels of nesting, checked while scanning flow collections (the
  scanner reads `[[[[…` ahead in quadratic time) and while composing (before Python's
  recursion limit);
- at most `MAX_ALIASES` alias uses, and the document with every alias expanded at most
  `MAX_NODES` nodes: a few aliases nine deep expand to hundreds of millions of nodes
  (billion laughs), so counting uses alone would not stop a bomb (docs/decisions/0040);
- a recursive alias (`&a [*a]`) is refused.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.scanner import ScannerError

from chaosbus.errors import InvalidInput
from chaosbus.injectors.errors import SpecError
from chaosbus.injectors.http.spec import HttpFaultFile, parse_http_fault_document
from chaosbus.injectors.limits import MAX_ALIASES, MAX_DEPTH, MAX_FILE_BYTES, MAX_NODES
from chaosbus.injectors.spec import FaultFile, parse_fault_document
from chaosbus.injectors.validation import ROOT

FILE = "(file)"
T = TypeVar("T")
_MERGE = "tag:yaml.org,2002:merge"


class DocumentError(InvalidInput, ValueError):
    """One line: where the document is broken and how (each kind of document wraps it in
    its own error before it leaves this module)."""


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader with the limits above; it rejects a key given twice, which PyYAML would
    silently overwrite, and a key that is not a scalar."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0

    def fetch_flow_collection_start(self, token_class: Any) -> None:
        # The scanner reads a whole flow collection ahead (any `[` may open a key), in time
        # quadratic in its depth: refuse deep `[[[[…` here, before the composer would.
        if self.flow_level >= MAX_DEPTH:
            raise ScannerError(
                None,
                None,
                f"nested deeper than {MAX_DEPTH} levels (limit)",
                self.get_mark(),
            )
        super().fetch_flow_collection_start(token_class)

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event: Any = self.peek_event()  # type: ignore[no-untyped-call]
        mark: Any = event.start_mark
        if isinstance(event, yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise ComposerError(None, None, f"more than {MAX_ALIASES} aliases (limit)", mark)
            return super().compose_node(parent, index)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise ComposerError(
                    None, None, f"nested deeper than {MAX_DEPTH} levels (limit)", mark
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def get_single_node(self) -> Node | None:
        node: Node | None = super().get_single_node()
        if node is not None:
            _check_expansion(node)
        return node

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            if key_node.tag == _MERGE:
                continue  # `<<: *base` merges; its keys may be overridden, by definition
            if not isinstance(key_node, ScalarNode):
                raise ConstructorError(
                    None,
                    None,
                    "a key must be a plain value, not a list or mapping",
                    key_node.start_mark,
                )
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _check_expansion(root: Node) -> None:
    """Refuse a node graph whose expansion is larger than `MAX_NODES` or that is cyclic.

    Aliases make the composed document a graph: each node is sized once (memoised), so a
    bomb is measured without being expanded. Iterative, like everything on this path.
    """
    sizes: dict[int, int] = {}
    on_path = {id(root)}
    stack = [(root, iter(_children(root)))]
    while stack:
        node, pending = stack[-1]
        child = next(pending, None)
        if child is None:
            stack.pop()
            on_path.discard(id(node))
            size = 1 + sum(sizes[id(c)] for c in _children(node))
            if size > MAX_NODES:
                raise ComposerError(
                    None,
                    None,
                    f"expands to more than {MAX_NODES} values through aliases (limit)",
                    node.start_mark,
                )
            sizes[id(node)] = size
        elif id(child) in on_path:
            raise ComposerError(None, None, "an alias refers to itself", child.start_mark)
        elif id(child) not in sizes:
            on_path.add(id(child))
            stack.append((child, iter(_children(child))))


def parse_yaml_text(text: str, *, root: str = FILE) -> object:
    try:
        loader = _StrictLoader(text)  # the reader refuses control characters at once
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        raise DocumentError(_yaml_problem(exc, root, text)) from exc
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        # A scalar PyYAML recognises but cannot build: `2001-13-45` as a date, an integer
        # longer than Python converts. Still one line, never a traceback.
        # Python's own advice after the ";" (set_int_max_str_digits) is not for a user.
        reason = _one_line(str(exc)).split(";")[0]
        raise DocumentError(f"{root}: invalid YAML value: {reason}") from exc


def read_file_bytes(path: str | os.PathLike[str], *, root: str = FILE) -> bytes:
    """One bounded read: what is hashed and what is parsed must be these same bytes."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise DocumentError(f"{root}: cannot read: {exc.strerror}") from exc
    if len(raw) > MAX_FILE_BYTES:
        raise DocumentError(f"{root}: larger than {MAX_FILE_BYTES} bytes (limit)")
    return raw


def decode_text(raw: bytes, *, root: str = FILE) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DocumentError(f"{root}: not UTF-8 text ({exc.reason})") from exc


def read_yaml_file(path: str | os.PathLike[str], *, root: str = FILE) -> object:
    return parse_yaml_text(decode_text(read_file_bytes(path, root=root), root=root), root=root)


def _yaml_problem(exc: yaml.YAMLError, root: str, text: str) -> str:
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        problem = _one_line(exc.problem or "invalid YAML")
        if "'\\t'" in problem:
            problem += " (YAML indents with spaces, never tabs)"
        return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"
    if isinstance(exc, yaml.reader.ReaderError):
        char = exc.character if isinstance(exc.character, int) else ord(exc.character)
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - text.rfind("\n", 0, exc.position)
        return f"line {line}, column {column}: character #x{char:04x}: {exc.reason}"
    return f"{root}: invalid YAML: {_one_line(str(exc))}"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def load_document(
    path: str | os.PathLike[str],
    parse: Callable[[object, str], T],
    invalid: Callable[[Iterable[str], str], Exception],
) -> T:
    """Read the YAML file at `path` and `parse` its data; a broken document is `invalid`."""
    origin = os.fspath(path)
    try:
        data = read_yaml_file(path, root=ROOT)
    except DocumentError as exc:
        raise invalid([str(exc)], origin) from exc
    return parse(data, origin)


def parse_document(
    text: str,
    origin: str,
    parse: Callable[[object, str], T],
    invalid: Callable[[Iterable[str], str], Exception],
) -> T:
    """`load_document` for YAML text already read."""
    try:
        data = parse_yaml_text(text, root=ROOT)
    except DocumentError as exc:
        raise invalid([str(exc)], origin) from exc
    return parse(data, origin)


def load_fault_file(path: str | os.PathLike[str]) -> FaultFile:
    """Read and validate a YAML fault file; every problem is reported in `SpecError`."""
    return load_document(path, parse_fault_document, SpecError)


def load_http_fault_file(path: str | os.PathLike[str]) -> HttpFaultFile:
    """Read and validate a YAML HTTP fault file; every problem is reported in `SpecError`."""
    return load_document(path, parse_http_fault_document, SpecError)
