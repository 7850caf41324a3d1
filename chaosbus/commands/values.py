"""Value parsers of command-line text: durations, sizes, field lists, a file to write."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from chaosbus.errors import InvalidInput
from chaosbus.traffic.selectors import Selector, parse_selectors

_UNITS_S = {"": 1, "s": 1, "m": 60, "h": 3600}
_UNITS_B = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9}
_UNITS_B |= {"kib": 2**10, "mib": 2**20, "gib": 2**30}


def seconds(option: str, text: str) -> float:
    """`90`, `30s`, `10m`, `1.5h` as seconds."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([smh]?)", text.strip().lower())
    if match is None or float(match.group(1)) <= 0:
        raise InvalidInput(f"{option} {text!r}: a duration like 30s, 10m or 2h (above 0)")
    return float(match.group(1)) * _UNITS_S[match.group(2)]


def size(option: str, text: str) -> int:
    """`1048576`, `500MB`, `1GiB` as bytes."""
    match = re.fullmatch(r"(\d+)\s*([kmg]i?b|b)?", text.strip().lower())
    if match is None or int(match.group(1)) <= 0:
        raise InvalidInput(f"{option} {text!r}: a size like 500MB or 1GiB (above 0)")
    return int(match.group(1)) * _UNITS_B[match.group(2) or ""]


def fields(option: str, values: list[str]) -> tuple[Selector, ...]:
    try:
        return parse_selectors(values)
    except ValueError as exc:
        raise InvalidInput(f"{option} {exc}") from exc


def new_file(path: Path, force: bool) -> None:
    if path.exists() and not force:
        raise InvalidInput(f"{path} exists (pass --force to overwrite it)")
    if not path.parent.is_dir():
        raise InvalidInput(f"{path}: no directory {path.parent}")


def share(option: str, text: str) -> float:
    """`10%`, `10` (a percentage) or `0.5%` as a fraction."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*%?", text.strip())
    if match is None or float(match.group(1)) > 1000:
        raise InvalidInput(f"{option} {text!r}: a percentage like 10% (0 to 1000)")
    return float(match.group(1)) / 100


def date_ms(option: str, text: str) -> int:
    """`2026-11-20` (UTC midnight) or `2026-11-20T14:30` (UTC unless it says) in epoch ms."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            f"{option} {text!r}: a date like 2026-11-20 or 2026-11-20T14:30"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)
