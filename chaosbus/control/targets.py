"""What a run touches, as approvals bind it (pure): the effective targets after flags and
environment, their canonical text, and the one difference that refuses a run.

A sign-off covers the file's bytes *and* these targets: the Kafka bootstrap, the control
plane's namespace, each topic route and each HTTP route's upstream, as the run resolves
them. So an approved file pointed elsewhere with `--bootstrap` or `--http-upstream` is not
approved (docs/decisions/0300).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Targets:
    bootstrap: str
    namespace: str
    routes: tuple[str, ...] = ()  # "source -> destination"
    http_upstreams: tuple[str, ...] = ()  # "name -> upstream URL"

    def text(self) -> str:
        """The canonical form a sign-off stores and an audit entry records."""
        return json.dumps(
            {
                "bootstrap": self.bootstrap,
                "namespace": self.namespace,
                "routes": sorted(self.routes),
                "http_upstreams": sorted(self.http_upstreams),
            },
            sort_keys=True,
            separators=(",", ":"),
        )


def targets_of(
    bootstrap: str,
    namespace: str,
    routes: Iterable[tuple[str, str]],
    http_routes: Iterable[tuple[str, str]],
) -> Targets:
    return Targets(
        bootstrap,
        namespace,
        tuple(f"{a} -> {b}" for a, b in routes),
        tuple(f"{name} -> {url}" for name, url in http_routes),
    )


def _read(text: str) -> Mapping[str, object] | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def difference(approved: str, actual: Targets) -> str | None:
    """None when `approved` covers `actual`; else one phrase naming the first difference."""
    before = _read(approved)
    if before is None:
        return "the sign-off names no targets"
    now = _read(actual.text())
    assert now is not None
    for name in ("bootstrap", "namespace", "routes", "http_upstreams"):
        was, is_ = before.get(name), now.get(name)
        if was != is_:
            label = name.replace("_", " ")
            return f"{label} {_show(is_)} (approved: {_show(was)})"
    return None


def _show(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "none"
    return str(value)
