"""A stored experiment made runnable again: its exact text, or on topics the user names. Pure.

`chaosbus rerun ID` runs the text the history kept, byte for byte, with its seed. With
`--topic OLD=NEW` every value equal to OLD in the experiment (routes, monitor source,
workload, probes, dead letters…) becomes NEW, and every route without an `id` is pinned to
its original source topic first: decisions are keyed on the route id (README, "Replay on
another topic"), so the same messages at the same offsets get the same faults.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from chaosbus.errors import InvalidInput
from chaosbus.experiment import parse_experiment, parse_experiment_text


def parse_renames(texts: list[str]) -> dict[str, str]:
    renames: dict[str, str] = {}
    for text in texts:
        old, equals, new = text.partition("=")
        if not equals or not old.strip() or not new.strip():
            raise InvalidInput(f"--topic {text!r}: expected OLD=NEW")
        renames[old.strip()] = new.strip()
    return renames


def renamed_text(text: str, renames: Mapping[str, str], *, origin: str) -> str:
    """`text` itself without renames; else the experiment with the topics renamed, as YAML."""
    spec = parse_experiment_text(text, origin=origin)
    if not renames:
        return text
    doc = spec.model_dump(mode="json", by_alias=True, exclude_none=True)
    for route in doc.get("routes", []):
        route.setdefault("id", route["from"])
    found: set[str] = set()
    doc = _replace(doc, renames, found, route_id=False)
    missing = sorted(set(renames) - found)
    if missing:
        raise InvalidInput(
            f"--topic {missing[0]}=…: the experiment {spec.name} names no such topic"
        )
    parse_experiment(doc, origin=f"{origin}, topics renamed")  # every cross-field check again
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


def _replace(value: Any, renames: Mapping[str, str], found: set[str], *, route_id: bool) -> Any:
    if isinstance(value, str):
        if value in renames and not route_id:
            found.add(value)
            return renames[value]
        return value
    if isinstance(value, list):
        return [_replace(item, renames, found, route_id=False) for item in value]
    if isinstance(value, dict):
        return {
            key: _replace(item, renames, found, route_id=key == "id" and "from" in value)
            for key, item in value.items()
        }
    return value
