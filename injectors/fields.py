"""Which fields a mapping of a file may have, found from the pydantic model that read it.

An "unknown field" error is only useful when it says what is allowed: `probe.field: unknown
field` left a user copying shapes between probe kinds by trial. pydantic's error names the
location of the stray key but not the model it was checked against, so `allowed_fields`
walks the model's annotations along that location:

- a model's field, by name or alias, leads to its annotation;
- an integer leads into a tuple's or list's items, a key into a dict's values;
- anything else is a tag pydantic inserted for a union member (`http` for a probe of kind
  http, `duplicate` for a fault, `function-after[…, PathCondition]` for a plain union): it
  keeps the members it names, by their `type`/`kind` literal or their class name.

`unknown_field` says it in one line, with the closest allowed name when there is one
(difflib's ratio, as Python's own "did you mean" does for attributes).
"""

from __future__ import annotations

import difflib
import types
from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

# Literal fields whose value names a union member, as the files write them.
TAG_FIELDS = ("type", "kind")
_SEQUENCES = (tuple, list, set, frozenset, Sequence)
_MAPPINGS = (dict, Mapping)


def allowed_fields(model: type[BaseModel], loc: Sequence[int | str]) -> tuple[str, ...]:
    """The keys the mapping at `loc` (the parent of a stray key) may have, as a file writes
    them (aliases where declared), in declaration order; empty when `loc` leads nowhere."""
    candidates: list[Any] = [model]
    for item in loc:
        inside = [found for tp in candidates for found in _step(tp, item)]
        candidates = inside or _tagged(candidates, item)
    names: dict[str, None] = {}
    for member in _members_of(candidates):
        if _is_model(member):
            for name, field in member.model_fields.items():
                names.setdefault(field.alias or name, None)
    return tuple(names)


def unknown_field(key: str, allowed: Sequence[str]) -> str:
    """`unknown field` with the closest allowed name and the list, in one line."""
    if not allowed:
        return "unknown field"
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown field{hint} (allowed: {', '.join(allowed)})"


def _members(tp: Any) -> list[Any]:
    """`tp` with `Annotated` and unions (`X | None` included) flattened into members."""
    origin = get_origin(tp)
    if origin is Annotated:
        return _members(get_args(tp)[0])
    if origin is Union or origin is types.UnionType:
        return [m for arg in get_args(tp) for m in _members(arg)]
    return [tp]


def _members_of(candidates: Iterable[Any]) -> list[Any]:
    return [m for tp in candidates for m in _members(tp)]


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _step(tp: Any, item: int | str) -> list[Any]:
    """Where `item` leads from `tp`: a field's annotation, an item's or a value's type."""
    found: list[Any] = []
    for member in _members(tp):
        origin = get_origin(member) or member
        args = get_args(member)
        if _is_model(member) and isinstance(item, str):
            for name, field in member.model_fields.items():
                if item in (name, field.alias):
                    found.append(field.annotation)
        elif isinstance(item, int) and origin in _SEQUENCES and args:
            found.append(args[0])
        elif isinstance(item, str) and origin in _MAPPINGS and len(args) == 2:
            found.append(args[1])
    return found


def _tagged(candidates: list[Any], tag: int | str) -> list[Any]:
    """The union members a pydantic tag names; all of them when it names none."""
    named = [m for m in _members_of(candidates) if _names(m, str(tag))]
    return named or candidates


def _names(member: Any, tag: str) -> bool:
    if _is_model(member):
        for field_name in TAG_FIELDS:
            field = member.model_fields.get(field_name)
            literal = field is not None and get_origin(field.annotation) is Literal
            if literal and field is not None and tag in map(str, get_args(field.annotation)):
                return True
        return member.__name__ in tag
    origin = get_origin(member)
    return origin is not None and getattr(origin, "__name__", "") in tag
