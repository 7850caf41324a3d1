"""One library scenario per platform, written from its profile: `<platform>-delivery`.

The scenario runs every fault preset of the profile against the demo's checks
(`scenario-template.yaml`), over a schedule whose recovery outlasts the longest compressed
horizon. Its description is the profile itself, fact by fact with each source, so
`chaosbus scenarios --platform zapier` shows where every number comes from. The text is
generated, not stored: a profile and its scenario cannot drift apart.
"""

from __future__ import annotations

import math
from importlib.resources import files
from typing import Any

import yaml

from chaosbus.documents import parse_yaml_text
from chaosbus.platforms.presets import duration, offsets_of, preset_index
from chaosbus.platforms.profile import Profile, profiles

SUFFIX = "-delivery"
WARMUP_S, INJECT_S = 3, 10
# After the last compressed copy: the service applies it and the monitors settle.
MARGIN_S = 3


def scenario_name(platform: str) -> str:
    return f"{platform}{SUFFIX}"


def platform_scenarios() -> dict[str, str]:
    """Scenario name → the platform it is generated from."""
    return {scenario_name(name): name for name in profiles()}


def recover_s(profile: Profile) -> int:
    index = preset_index()
    longest = 0.0
    for preset in profile.presets:
        found = index[preset.name]
        if preset.kind != "parallel":
            longest = max(longest, max(offsets_of(found)) / preset.compress)
    return max(10, math.ceil(longest) + MARGIN_S)


def describe(profile: Profile) -> str:
    lines = [profile.summary.strip(), "Faults (presets of the profile):"]
    index = preset_index()
    for preset in profile.presets:
        found = index[preset.name]
        if preset.kind == "parallel":
            lines.append(
                f"- {preset.name}: overlapping runs, {preset.window} events may swap places "
                f"within {preset.within_ms} ms (window and time are chaosbus's model, not a "
                "platform figure)."
            )
            continue
        offsets = ", ".join(duration(o) for o in offsets_of(found))
        scale = "real time" if preset.compress == 1 else f"time compressed ÷{preset.compress:g}"
        lines.append(
            f"- {preset.name}: one late copy at {offsets} after the event ({preset.kind}), {scale}."
        )
    lines.append(f"Facts of the {profile.title} profile:")
    lines += [f"- {name}: {_shown(fact.value)}. {fact.cite()}" for name, fact in profile.facts()]
    return "\n".join(lines)


def scenario_text(platform: str) -> str:
    """The scenario as YAML text, as `chaosbus scenarios show` prints it."""
    profile = profiles()[platform]
    template = parse_yaml_text(
        files(__name__.rpartition(".")[0]).joinpath("scenario-template.yaml").read_text("utf-8"),
        root="scenario-template.yaml",
    )
    if not isinstance(template, dict):
        raise RuntimeError("scenario-template.yaml is not a mapping")
    document: dict[str, Any] = {
        "name": scenario_name(platform),
        "hypothesis": (
            "Every payment is counted once and every order keeps its newest version when the "
            f"events arrive the way {profile.title} delivers them."
        ),
        "description": describe(profile),
        "schedule": {"warmup_s": WARMUP_S, "inject_s": INJECT_S, "recover_s": recover_s(profile)},
        "faults": [{"preset": preset.name} for preset in profile.presets],
        **template,
    }
    header = (
        f"# Generated from chaosbus/platforms/profiles/{platform}.yaml. Run: chaosbus run "
        f"{scenario_name(platform)} --key-prefix safe:\n"
    )
    return header + yaml.dump(
        document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100
    )


class _Dumper(yaml.SafeDumper):
    """Multi-line text as a literal block, so the description reads as it was written."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def _shown(value: object) -> str:
    if isinstance(value, tuple | list):
        return "[" + ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value) + "]"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "none" if value is None else str(value).rstrip(".")
