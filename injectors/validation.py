"""Turn pydantic validation errors into one line per problem, each naming its path.

The fault file and the experiment spec both report problems as ``path: message`` with the
path written the way a user would point into their YAML: ``faults[1].distribution.max_ms``.
pydantic's raw locations are not that: a discriminated union inserts its tag
(``('faults', 1, 'delay', 'distribution', 'uniform', 'max_ms')``) and keys with dots in them
are ambiguous. Walking the location alongside the input document fixes both, so this helper
takes the document that was validated as well as the error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence, Sized
from types import MappingProxyType

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from chaosbus.injectors.errors import InjectorError
from chaosbus.injectors.fields import allowed_fields, unknown_field

ROOT = "(document)"

# How a discriminator field is named in messages: "unknown fault type 'explode'" reads
# better than "unknown type 'explode'". Callers with other unions may pass their own.
DISCRIMINATOR_LABELS: Mapping[str, str] = MappingProxyType(
    {"type": "fault type", "kind": "distribution kind"}
)

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")
_SIMPLE_MESSAGES = {
    "missing": "required",
    "extra_forbidden": "unknown field",
    "model_type": "must be a mapping",
    "model_attributes_type": "must be a mapping",
    "dict_type": "must be a mapping",
}


def error_path(loc: Sequence[int | str], data: object) -> str:
    """Render a pydantic location as ``a.b[0].c``, dropping union tags by walking `data`."""
    parts: list[str] = []
    node: object = data
    for index, item in enumerate(loc):
        last = index == len(loc) - 1
        if isinstance(item, int):
            parts.append(f"[{item}]")
            node = node[item] if isinstance(node, list) and -len(node) <= item < len(node) else None
            continue
        if isinstance(node, Mapping) and item in node:
            node = node[item]
        elif isinstance(node, Mapping) and (not last or item in _tags(node)):
            continue  # a union tag pydantic inserted, not a key the user wrote
        elif node is not None and not isinstance(node, Mapping | list):
            break  # below a scalar: the rest names union member types, not user keys
        else:
            node = None
        parts.append(f".{item}" if _IDENTIFIER.match(item) else f"[{json.dumps(item)}]")
    text = "".join(parts).removeprefix(".")
    return text or ROOT


def _tags(node: Mapping[object, object]) -> set[object]:
    """The discriminator values a mapping names, which pydantic uses as location items."""
    return {node.get(label) for label in DISCRIMINATOR_LABELS}


class LocatedError(InjectorError, ValueError):
    """A cross-field problem that knows the path it belongs to.

    Raised from a model validator, pydantic would report it at the model's own location;
    `format_validation_error` puts it at `path` instead (relative to the document root).
    """

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path


def format_validation_error(
    exc: ValidationError,
    data: object,
    labels: Mapping[str, str] = DISCRIMINATOR_LABELS,
    model: type[BaseModel] | None = None,
) -> list[str]:
    """Return one ``path: message`` line per problem in `exc`, in pydantic's order.

    `model`, the model that validated `data`, lets an unknown field's line list the
    fields allowed there and suggest a close one (`injectors.fields`).

    pydantic reports some problems more than once; those echoes are left out so that one
    mistake reads as one line: a tuple "too short" because its only item was invalid, and
    the other members of a plain union when a number is NaN or infinite (`equals: .nan`
    is not a string, not a boolean, and not finite: only the last is the user's mistake),
    and a member that refuses the input's whole shape while another finds a deeper fault.
    """
    errors = exc.errors()
    branches = [_union_branch(error["loc"], data) for error in errors]
    tags: dict[str, set[str]] = {}
    for branch in branches:
        if branch is not None:
            tags.setdefault(branch[0], set()).add(branch[1])
    finite = {
        branch[0]
        for branch, error in zip(branches, errors, strict=True)
        if branch is not None and error["type"] == "finite_number" and len(tags[branch[0]]) > 1
    }
    lines: list[str] = []
    for branch, error in zip(branches, errors, strict=True):
        if branch is not None and branch[0] in finite and error["type"] != "finite_number":
            continue
        if branch is not None and len(tags[branch[0]]) > 1 and _wrong_shape(error, branch):
            continue
        if error["type"] == "too_short" and _has_deeper(error["loc"], errors):
            continue
        line = _format_one(error, data, labels, model)
        if line not in lines:
            lines.append(line)
    return lines


def _wrong_shape(error: ErrorDetails, branch: tuple[str, str]) -> bool:
    """A member of a plain union refusing the input's shape as a whole (`where` given as a
    mapping is not a valid tuple): an echo when another member says what is wrong."""
    loc = error["loc"]
    return bool(loc) and loc[-1] == branch[1] and error["type"].endswith("_type")


def _has_deeper(loc: Sequence[int | str], errors: Sequence[ErrorDetails]) -> bool:
    return any(
        len(other["loc"]) > len(loc) and tuple(other["loc"][: len(loc)]) == tuple(loc)
        for other in errors
    )


def _union_branch(loc: Sequence[int | str], data: object) -> tuple[str, str] | None:
    """(path of the union, member tag) for an error inside a plain union's member, or None."""
    node: object = data
    for index, item in enumerate(loc):
        if isinstance(item, int):
            node = node[item] if isinstance(node, list) and -len(node) <= item < len(node) else None
            continue
        if not isinstance(node, Mapping):
            return None
        if item in node:
            node = node[item]
            continue
        if index < len(loc) - 1 or not _IDENTIFIER.match(item):
            return error_path(loc[:index], data), item
        return None
    return None


def _format_one(
    error: ErrorDetails,
    data: object,
    labels: Mapping[str, str],
    model: type[BaseModel] | None = None,
) -> str:
    path = error_path(error["loc"], data)
    kind = error["type"]
    ctx = error.get("ctx") or {}
    loc = error["loc"]
    if kind == "extra_forbidden" and model is not None and loc:
        return f"{path}: {unknown_field(str(loc[-1]), allowed_fields(model, loc[:-1]))}"
    if isinstance(ctx.get("error"), LocatedError):
        return f"{ctx['error'].path}: {ctx['error']}"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        field = str(ctx.get("discriminator", "type")).strip("'")
        path = field if path == ROOT else f"{path}.{field}"
        if kind == "union_tag_not_found":
            return f"{path}: required"
        known = ", ".join(sorted(tag.strip(" '") for tag in str(ctx["expected_tags"]).split(",")))
        label = labels.get(field, field)
        return f"{path}: unknown {label} {ctx['tag']!r} (known: {known})"
    if kind in _SIMPLE_MESSAGES:
        return f"{path}: {_SIMPLE_MESSAGES[kind]}"
    if kind == "value_error" and "error" in ctx:
        return f"{path}: {ctx['error']}"
    value = error.get("input")
    limited = _limit_message(kind, ctx, value)
    if limited is not None:
        return f"{path}: {limited}"
    message = error["msg"]
    message = message[:1].lower() + message[1:]
    if (
        kind not in _NAMES_ITS_INPUT
        and not _may_hold_a_secret(error["loc"], value)
        and (isinstance(value, str | int | float | bool) or value is None)
    ):
        message = f"{message} (got {_shown(value)})"
    return f"{path}: {message}"


def _limit_message(kind: str, ctx: Mapping[str, object], value: object) -> str | None:
    """The upper bounds of `injectors.limits` as a person reads them, with what was given."""
    if kind == "finite_number":
        return f"must be a finite number (got {_shown(value)})"
    if kind == "less_than_equal":
        return f"at most {_shown(ctx['le'])} (got {_shown(value)}; limits: docs/limits.md)"
    if kind == "too_long" and ctx.get("field_type") != "Value":
        actual = ctx.get("actual_length")
        if actual is None and isinstance(value, Sized):
            actual = len(value)
        return f"at most {ctx['max_length']} entries (got {actual}; limits: docs/limits.md)"
    if kind == "string_too_long" and isinstance(value, str):
        return f"at most {ctx['max_length']} characters (got {len(value)}; limits: docs/limits.md)"
    return None


_SHOWN_MAX = 40


# Custom errors whose message already quotes the value.
_NAMES_ITS_INPUT = frozenset({"own_topic", "topic_name"})
# Fields whose value is not quoted back when it could carry a secret (a user or password
# in a URL, a libpq `password=`, or text with a space, where a parser may have split one):
# an error message reaches terminals, CI logs and reports.
_SECRET_FIELD = re.compile(r"(url|urls|upstream|dsn|password|secret|token|jaas)$", re.I)
_SECRET_VALUE = re.compile(r"@|\s|pass|secret|token", re.I)


def _may_hold_a_secret(loc: Sequence[int | str], value: object) -> bool:
    if not any(isinstance(part, str) and _SECRET_FIELD.search(part) for part in loc):
        return False
    return not isinstance(value, str) or bool(_SECRET_VALUE.search(value)) or "password" in loc


def _shown(value: object) -> str:
    """A value quoted in a message, cut short: the message must stay one readable line."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**_SHOWN_MAX:
        return "an integer too long to show"  # str() of a huge int may itself raise
    text = repr(value)
    if len(text) > _SHOWN_MAX:
        text = text[: _SHOWN_MAX - 1] + "…"
    return text.replace("\n", " ")
