"""Labels a run is recorded with: `--label service=orders-api`, or `CHAOSBUS_LABELS`.

A label is `NAME=VALUE`. A name is a letter then letters, digits, `_ . -` (at most 64); a
value is 1 to 200 printable characters. `CHAOSBUS_LABELS` holds several, comma-separated
(`service=orders-api,version=1.4.2`); a flag wins over the variable for the same name. At
most 32 labels per run. Anything else is one line naming the label, exit 2. Pure.

`service` is the one label chaosbus reads itself: trends and the verdict matrix are per
scenario x service.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from chaosbus.errors import InvalidInput

SERVICE = "service"
MAX_LABELS = 32
MAX_VALUE = 200
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]{0,63}")


def parse_label(text: str, *, origin: str = "--label") -> tuple[str, str]:
    """`NAME=VALUE` → (name, value), or one line saying what is wrong."""
    name, equals, value = text.partition("=")
    name, value = name.strip(), value.strip()
    if not equals:
        raise InvalidInput(f"{origin} {text!r}: expected NAME=VALUE")
    if not _NAME.fullmatch(name):
        raise InvalidInput(
            f"{origin} {text!r}: a name is a letter, then letters, digits, _ . - (at most 64)"
        )
    if not value or len(value) > MAX_VALUE or not value.isprintable():
        raise InvalidInput(f"{origin} {text!r}: a value is 1 to {MAX_VALUE} printable characters")
    return name, value


def parse_labels(texts: Iterable[str], *, origin: str = "--label") -> dict[str, str]:
    labels: dict[str, str] = {}
    for text in texts:
        name, value = parse_label(text, origin=origin)
        labels[name] = value
    return labels


def labels_from_text(text: str, *, origin: str) -> dict[str, str]:
    """`service=a,version=1` (a variable's value); blank parts are ignored."""
    return parse_labels((part for part in text.split(",") if part.strip()), origin=origin)


def merged(*layers: Mapping[str, str]) -> dict[str, str]:
    """Later layers win name by name; more than `MAX_LABELS` is refused."""
    labels: dict[str, str] = {}
    for layer in layers:
        labels.update(layer)
    if len(labels) > MAX_LABELS:
        raise InvalidInput(f"{len(labels)} labels: at most {MAX_LABELS} per run")
    return labels


def describe(labels: Mapping[str, str]) -> str:
    return ", ".join(f"{name}={value}" for name, value in sorted(labels.items())) or "no labels"
