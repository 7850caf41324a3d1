"""Does a fault's `match` select an envelope?

Three outcomes, not two: a `json` condition cannot be judged on a payload that is not a
JSON object, and the plan reports those messages as `non_json` rather than pretending the
condition was simply false — a fault that never fires because the automation sends a
different encoding is something the user must hear about.
"""

from __future__ import annotations

import enum
import json
from fnmatch import fnmatchcase

from chaosbus.injectors.base import JsonCondition, MatchSpec, PathCondition
from chaosbus.injectors.envelope import Envelope


class Verdict(enum.Enum):
    MATCH = "match"
    NO_MATCH = "no_match"
    NON_JSON = "non_json"


_ABSENT = object()


class Payload:
    """The envelope value parsed as a JSON object at most once, on first need."""

    __slots__ = ("_parsed", "_value")

    def __init__(self, value: bytes | None) -> None:
        self._value = value
        self._parsed: object = _ABSENT

    def as_object(self) -> dict[str, object] | None:
        if self._parsed is _ABSENT:
            self._parsed = _parse_object(self._value)
        return self._parsed if isinstance(self._parsed, dict) else None


def _parse_object(value: bytes | None) -> dict[str, object] | None:
    if value is None:
        return None
    try:
        parsed = json.loads(value)
    except (UnicodeDecodeError, ValueError, RecursionError):
        # Deep nesting (a thousand levels fits in 2 KB) exhausts the parser's recursion:
        # what cannot be parsed is judged as non-JSON, never raised into the interposer.
        return None
    return parsed if isinstance(parsed, dict) else None


def evaluate(spec: MatchSpec | None, envelope: Envelope, payload: Payload) -> Verdict:
    """Judge every criterion of `spec`; cheap ones first so JSON is parsed only if needed."""
    if spec is None:
        return Verdict.MATCH
    if spec.topic is not None and not fnmatchcase(envelope.source.topic, spec.topic):
        return Verdict.NO_MATCH
    if spec.key is not None and not _key_matches(envelope.key, spec.key):
        return Verdict.NO_MATCH
    if spec.headers and not _headers_match(envelope, spec.headers):
        return Verdict.NO_MATCH
    if not spec.json_conditions:
        return Verdict.MATCH
    document = payload.as_object()
    if document is None:
        return Verdict.NON_JSON
    for path, condition in spec.json_conditions.items():
        if not condition_holds(lookup(document, path), condition):
            return Verdict.NO_MATCH
    return Verdict.MATCH


def _key_matches(key: bytes | None, glob: str) -> bool:
    if key is None:
        return False
    try:
        return fnmatchcase(key.decode("utf-8"), glob)
    except UnicodeDecodeError:
        return False


def _headers_match(envelope: Envelope, wanted: dict[str, str]) -> bool:
    # Kafka allows a header name to repeat; any occurrence with the exact value counts.
    present = set(envelope.headers)
    return all((name, value.encode("utf-8")) in present for name, value in wanted.items())


def lookup(document: object, path: str) -> object:
    node = document
    for segment in path.split("."):
        if isinstance(node, dict) and segment in node:
            node = node[segment]
        elif isinstance(node, list) and segment.isdigit() and int(segment) < len(node):
            node = node[int(segment)]
        else:
            return _ABSENT
    return node


def path_holds(document: object, condition: PathCondition) -> bool:
    """Whether `condition` holds at its `$.`-rooted path of a parsed `document`."""
    found = document if condition.path == "$" else lookup(document, condition.path[2:])
    return condition_holds(found, condition)


def condition_holds(found: object, condition: JsonCondition) -> bool:
    if "exists" in condition.model_fields_set:
        return (found is not _ABSENT) == condition.exists
    return found is not _ABSENT and json_equal(found, condition.equals)


def json_equal(left: object, right: object) -> bool:
    """Equality in JSON's sense: `true` is not `1`, but `1` equals `1.0`."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(json_equal(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(json_equal, left, right))
    if isinstance(left, int | float) and isinstance(right, int | float):
        return left == right
    return type(left) is type(right) and left == right
