"""Platform presets: a profile's delivery habits written as faults of the existing types.

An experiment names a preset where a fault goes, and may override its probability, its time
compression and its targeting::

    faults:
      - {preset: zapier-autoreplay}                       # the profile's own defaults
      - {preset: n8n-retry-on-fail, probability: 0.5, match: {json: {type: {equals: paid}}}}

    http_routes:
      - {name: pricing, ..., retry_policy: {platform: n8n}}   # the verdict's bounds = n8n's

`expand_document` rewrites the parsed document before the spec validates it, so the spec,
the plan, the ledger and the report only ever see ordinary faults:

- `retries` and `replays`: one `replay` fault per documented re-delivery offset (after the
  n-th wait), each taking an equal share of the preset's probability; a faulted event gets
  one late copy at one of those offsets (a plan gives each message one decision);
- `parallel`: one `reorder` fault (overlapping runs let a later event overtake).

Offsets of hours are compressed by the preset's `compress` factor (a day of 86,400 s runs in
30 s at 2,880): the document records each use in `platform_presets`, and the report says so.
A compressed horizon must end inside `schedule.recover_s`, or its last copies would arrive
after the verdict (or be released early when the run stops): that is refused in one line.
Pure: no I/O beyond reading the shipped profiles.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from pydantic import Field

from chaosbus.errors import InvalidInput
from chaosbus.injectors.limits import MAX_DURATION_S, Name, SpecModel
from chaosbus.platforms.profile import PresetSpec, Profile, profiles

PRESET_KEYS = frozenset({"preset", "probability", "compress", "match"})
RECOVER_S_DEFAULT = 10.0  # `Schedule.recover_s`'s default, when the document leaves it out


class PresetUse(SpecModel):
    """One preset an experiment used, as the report states it."""

    preset: Name
    platform: Name
    compress: float = Field(ge=1.0)
    horizon_s: float = Field(ge=0.0)  # the platform's own, uncompressed
    faults: tuple[Name, ...]

    def sentence(self) -> str:
        """What a reader of the report must know to read its times."""
        if self.compress == 1:
            late = duration(self.horizon_s)
            return f"{self.preset} ({self.platform}): real time, copies up to {late} late"
        return (
            f"{self.preset} ({self.platform}): time compressed ÷{self.compress:g}: copies the "
            f"platform sends up to {duration(self.horizon_s)} late arrive up to "
            f"{duration(self.horizon_s / self.compress)} late here"
        )


class PresetError(InvalidInput):
    """Presets that cannot be expanded; `.problems` has one `path: message` line each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class Found:
    profile: Profile
    spec: PresetSpec


def preset_index() -> dict[str, Found]:
    """Every preset of every shipped profile, by name."""
    return {p.name: Found(prof, p) for prof in profiles().values() for p in prof.presets}


def duration(seconds: float) -> str:
    """`38100` → `10h35m`, `1.5` → `1.5s`: offsets as a person reads them."""
    if seconds < 60:
        return f"{seconds:g}s"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [
        f"{hours}h" if hours else "",
        f"{minutes}m" if minutes else "",
        f"{secs}s" if secs else "",
    ]
    return "".join(parts)


def offsets_of(found: Found) -> tuple[float, ...]:
    kind = found.spec.kind
    return found.profile.retry_offsets_s if kind == "retries" else found.profile.replay_offsets_s


def shares(probability: float, count: int) -> list[float]:
    """Per-fault probabilities so each of `count` faults, tried in order with the first
    that fires deciding, takes `probability / count` of the events."""
    share = probability / count
    return [round(share / (1 - index * share), 9) for index in range(count)]


def expand_fault(
    call: dict[str, Any], path: str, recover_s: float
) -> tuple[list[dict[str, Any]], PresetUse]:
    """One `{preset: …}` entry as ordinary fault entries, and the record of its use."""
    unknown = sorted(set(call) - PRESET_KEYS)
    if unknown:
        raise PresetError(
            [
                f"{path}.{unknown[0]}: not a preset option (allowed: "
                f"{', '.join(sorted(PRESET_KEYS))})"
            ]
        )
    name = call["preset"]
    index = preset_index()
    if not isinstance(name, str) or name not in index:
        raise PresetError(
            [f"{path}.preset: unknown preset {name!r} (known: {', '.join(sorted(index))})"]
        )
    found = index[name]
    probability = _number(
        call.get("probability", found.spec.probability), f"{path}.probability", 0, 1
    )
    compress = _number(call.get("compress", found.spec.compress), f"{path}.compress", 1, 1e6)
    extra = {"match": call["match"]} if "match" in call else {}
    if found.spec.kind == "parallel":
        fault = {
            "name": name,
            "type": "reorder",
            "probability": probability,
            "window": found.spec.window,
            "within_ms": found.spec.within_ms,
            **extra,
        }
        use = PresetUse(
            preset=name,
            platform=found.profile.name,
            compress=1,
            horizon_s=found.spec.within_ms / 1000,
            faults=(name,),
        )
        return [fault], use
    offsets = offsets_of(found)
    if not offsets:
        raise PresetError([f"{path}.preset: {found.profile.name} documents no {found.spec.kind}"])
    longest = max(offsets) / compress
    if longest > min(recover_s, MAX_DURATION_S):
        needed = math.ceil(max(offsets) / recover_s)
        raise PresetError(
            [
                f"{path}.compress: {name} sends copies up to {duration(max(offsets))} late; "
                f"÷{compress:g} that is {duration(longest)}, beyond schedule.recover_s "
                f"({recover_s:g} s): set compress ≥ {needed} or recover_s ≥ {math.ceil(longest)}"
            ]
        )
    faults = [
        {
            "name": f"{name}@{duration(offset)}",
            "type": "replay",
            "probability": chance,
            "after_ms": max(1, round(offset * 1000 / compress)),
            **extra,
        }
        for offset, chance in zip(offsets, shares(probability, len(offsets)), strict=True)
    ]
    use = PresetUse(
        preset=name,
        platform=found.profile.name,
        compress=compress,
        horizon_s=max(offsets),
        faults=tuple(f["name"] for f in faults),
    )
    return faults, use


def expand_document(data: dict[str, Any]) -> dict[str, Any]:
    """The document with every preset expanded; the input is not changed."""
    faults = data.get("faults")
    routes = data.get("http_routes")
    wants_faults = isinstance(faults, list) and any(_is_preset(f) for f in faults)
    wants_policy = isinstance(routes, list) and any(_platform_policy(r) for r in routes)
    if not (wants_faults or wants_policy):
        return data
    out = dict(data)
    problems: list[str] = []
    if wants_faults:
        assert isinstance(faults, list)
        expanded: list[Any] = []
        uses: list[dict[str, Any]] = []
        for index, entry in enumerate(faults):
            if not _is_preset(entry):
                expanded.append(entry)
                continue
            try:
                more, use = expand_fault(entry, f"faults[{index}]", _recover_s(data))
            except PresetError as exc:
                problems += exc.problems
                continue
            expanded += more
            uses.append(use.model_dump())
        out["faults"] = expanded
        out["platform_presets"] = [*data.get("platform_presets", []), *uses]
    if wants_policy:
        assert isinstance(routes, list)
        out["http_routes"] = [
            _with_policy(r, f"http_routes[{i}]", problems) for i, r in enumerate(routes)
        ]
    if problems:
        raise PresetError(problems)
    return out


def _with_policy(route: Any, path: str, problems: list[str]) -> Any:
    if not _platform_policy(route):
        return route
    asked = dict(route["retry_policy"])
    name = asked.pop("platform")
    known = profiles()
    if not isinstance(name, str) or name not in known:
        problems.append(
            f"{path}.retry_policy.platform: unknown platform {name!r} (known: {', '.join(known)})"
        )
        return route
    policy = known[name].retry_policy()
    numbers = {
        "max_attempts": policy.max_attempts,
        "min_backoff_ratio": policy.min_backoff_ratio,
        "max_storm_rps": policy.max_storm_rps,
    }
    return {**route, "retry_policy": {**numbers, **asked}}


def _is_preset(entry: Any) -> bool:
    return isinstance(entry, dict) and "preset" in entry


def _platform_policy(route: Any) -> bool:
    return (
        isinstance(route, dict)
        and isinstance(route.get("retry_policy"), dict)
        and "platform" in route["retry_policy"]
    )


def _recover_s(data: dict[str, Any]) -> float:
    schedule = data.get("schedule")
    value = schedule.get("recover_s") if isinstance(schedule, dict) else None
    return float(value) if isinstance(value, int | float) and value > 0 else RECOVER_S_DEFAULT


def _number(value: Any, path: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise PresetError([f"{path}: expected a number from {low:g} to {high:g}, got {value!r}"])
    return float(value)
