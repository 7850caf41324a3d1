"""Reading a YAML document for the spec loaders: strict keys, and errors with a position.

Shared by fault files and experiment files, which wrap `DocumentError` in their own error
type: a problem here is one line naming the line and column, or the file itself.
"""

from __future__ import annotations

import os

import yaml

FILE = "(file)"


class DocumentError(ValueError):
    """One line: where the document is broken and how."""


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that rejects a key given twice, which PyYAML would silently overwrite."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[object, object]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def parse_yaml_text(text: str, *, root: str = FILE) -> object:
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise DocumentError(_yaml_problem(exc, root)) from exc


def read_yaml_file(path: str | os.PathLike[str], *, root: str = FILE) -> object:
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise DocumentError(f"{root}: cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise DocumentError(f"{root}: not UTF-8 text ({exc.reason})") from exc
    return parse_yaml_text(text, root=root)


def _yaml_problem(exc: yaml.YAMLError, root: str) -> str:
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        return f"line {mark.line + 1}, column {mark.column + 1}: {exc.problem or 'invalid YAML'}"
    return f"{root}: invalid YAML: {exc}"
