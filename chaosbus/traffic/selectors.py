"""Where an identifier sits in a message, and rewriting it there (pure).

A selector is `key` (the Kafka key), `header:NAME` (every header of that name) or a JSON path
into the value, `$.customer` or `$.order.lines.0.sku`, the syntax the monitors' extractors
use (dotted keys, a digit segment indexes a list).

`Rewriter` replaces each selected value by `transform(value)` and removes dropped ones,
giving back a new record; the record's own value is parsed at most once. A JSON value is
handed to `transform` as bytes in one canonical form (a string as its UTF-8, anything else as
compact JSON), so a key `o-1` and a field `"o-1"` map to the same result: the relations between
fields survive.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from chaosbus.traffic.errors import TrafficError
from chaosbus.traffic.records import TrafficRecord

Kind = Literal["key", "header", "json"]
Step = str | int
Transform = Callable[[bytes], str]


@dataclass(frozen=True)
class Selector:
    kind: Kind
    name: str = ""  # the header's name, or the JSON path
    steps: tuple[Step, ...] = ()

    def __str__(self) -> str:
        if self.kind == "key":
            return "key"
        return f"header:{self.name}" if self.kind == "header" else self.name


def parse_selector(text: str) -> Selector:
    """`key`, `header:NAME` or `$.path`; raises ValueError with the reason."""
    text = text.strip()
    if text == "key":
        return Selector("key")
    if text.startswith("header:"):
        name = text.removeprefix("header:")
        if not name:
            raise ValueError(f"{text!r}: a header selector names the header (header:NAME)")
        return Selector("header", name)
    if not text.startswith("$.") or any(not part for part in text[2:].split(".")):
        raise ValueError(
            f"{text!r}: a field is key, header:NAME or a JSON path like $.customer "
            "(dotted keys, digits index lists)"
        )
    steps = tuple(int(p) if p.isdigit() else p for p in text[2:].split("."))
    return Selector("json", text, steps)


def parse_selectors(texts: Iterable[str]) -> tuple[Selector, ...]:
    """Selectors from option values, each of which may hold several separated by commas."""
    found: list[Selector] = []
    for text in texts:
        for part in text.split(","):
            if part.strip():
                selector = parse_selector(part)
                if selector not in found:
                    found.append(selector)
    return tuple(found)


def canonical(value: Any) -> bytes:
    """The bytes a JSON value is transformed as: a string's UTF-8, else compact JSON."""
    if isinstance(value, str):
        return value.encode("utf-8")
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode("utf-8")


class NotJson(TrafficError, ValueError):
    """A value that JSON selectors cannot reach: not JSON, or not an object or list."""


class Rewriter:
    """Applies `transform` to the `rewrite` selectors and removes the `drop` selectors.

    `originals` of the last `apply` are the bytes that were transformed, for a caller that
    checks none of them is left anywhere in the result. `counts` tallies per selector.
    """

    def __init__(
        self, rewrite: tuple[Selector, ...], drop: tuple[Selector, ...], transform: Transform
    ) -> None:
        self.rewrite = rewrite
        self.drop = drop
        self.transform = transform
        self.counts: Counter[str] = Counter()
        self.originals: list[tuple[Selector, bytes]] = []
        self._json = [s for s in (*rewrite, *drop) if s.kind == "json"]
        self._headers_rewritten = {s.name for s in rewrite if s.kind == "header"}
        self._headers_dropped = {s.name for s in drop if s.kind == "header"}
        self._key = any(s.kind == "key" for s in rewrite)

    @property
    def active(self) -> bool:
        return bool(self.rewrite or self.drop)

    def apply(self, record: TrafficRecord) -> TrafficRecord:
        """The record rewritten; raises `NotJson` when JSON selectors meet another value."""
        self.originals = []
        key = record.key
        if self._key and key is not None:
            self.originals.append((Selector("key"), key))
            key = self.transform(key).encode("utf-8")
            self.counts["key"] += 1
        value = record.value
        if self._json and value is not None:
            value = self._rewrite_value(value)
        headers = record.headers
        if self._headers_rewritten or self._headers_dropped:
            headers = self._rewrite_headers(headers)
        return TrafficRecord(
            key, value, headers, record.timestamp_ms, record.partition, record.offset
        )

    def _rewrite_value(self, value: bytes) -> bytes:
        try:
            doc = json.loads(value)
        except (ValueError, UnicodeDecodeError) as exc:
            raise NotJson("the value is not JSON") from exc
        if not isinstance(doc, dict | list):
            raise NotJson("the value is not a JSON object or list")
        for selector in self.rewrite:
            if selector.kind == "json" and _update(doc, selector.steps, self._hash_at(selector)):
                self.counts[str(selector)] += 1
        for selector in self.drop:
            if selector.kind == "json" and _update(doc, selector.steps, None):
                self.counts[f"drop {selector}"] += 1
        return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")

    def _hash_at(self, selector: Selector) -> Callable[[Any], Any]:
        def rewrite(found: Any) -> Any:
            if found is None:
                return None  # an absent identifier is not one to hide
            original = canonical(found)
            self.originals.append((selector, original))
            return self.transform(original)

        return rewrite

    def _rewrite_headers(
        self, headers: tuple[tuple[str, bytes | None], ...]
    ) -> tuple[tuple[str, bytes | None], ...]:
        out: list[tuple[str, bytes | None]] = []
        for name, header in headers:
            if name in self._headers_dropped:
                self.counts[f"drop header:{name}"] += 1
                continue
            if name in self._headers_rewritten and header is not None:
                self.originals.append((Selector("header", name), header))
                header = self.transform(header).encode("utf-8")
                self.counts[f"header:{name}"] += 1
            out.append((name, header))
        return tuple(out)


def _update(doc: Any, steps: tuple[Step, ...], rewrite: Callable[[Any], Any] | None) -> bool:
    """Rewrite (or, with None, delete) the value at `steps`; whether it was there."""
    parent = doc
    for step in steps[:-1]:
        try:
            parent = parent[step]
        except (KeyError, IndexError, TypeError):
            return False
    last = steps[-1]
    in_object = isinstance(parent, dict) and isinstance(last, str) and last in parent
    in_list = isinstance(parent, list) and isinstance(last, int) and last < len(parent)
    if not (in_object or in_list):
        return False
    if rewrite is None:
        del parent[last]
    else:
        parent[last] = rewrite(parent[last])
    return True


def paths_holding(doc: Any, needle: str, prefix: str = "$") -> list[str]:
    """The JSON paths of the string leaves of `doc` that contain `needle`."""
    if isinstance(doc, dict):
        return [p for k, v in doc.items() for p in paths_holding(v, needle, f"{prefix}.{k}")]
    if isinstance(doc, list):
        return [p for i, v in enumerate(doc) for p in paths_holding(v, needle, f"{prefix}.{i}")]
    if isinstance(doc, str) and needle in doc:
        return [prefix]
    return []
