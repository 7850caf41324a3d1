"""A platform's delivery profile: what it does with an event, each value with its source.

One YAML file per platform in `profiles/` (package data). Every value is a `Fact`: the value,
the public page that says so (`source`), and a short paraphrase of what it says; or no source
and `unconfirmed`, the reason the value is used anyway. `unconfirmed()` lists those, so the
documentation, the scenarios and a test can all say which facts rest on no public page.

The profile's `presets` are what topics can get from it (`chaosbus.platforms.presets`); its
`retries` and `replays` also make a retry policy for the HTTP verdict (`retry_policy`).
"""

from __future__ import annotations

import itertools
from functools import cache
from importlib.resources import files
from typing import Any, Generic, Literal, Self, TypeVar

from pydantic import Field, ValidationError, model_validator

from chaosbus.documents import DocumentError, parse_yaml_text
from chaosbus.errors import InvalidInput
from chaosbus.injectors.limits import Name, SpecModel, Text
from chaosbus.monitors.retries import RetryPolicy

T = TypeVar("T")
Backoff = Literal["none", "fixed", "exponential", "schedule"]
PresetKind = Literal["retries", "replays", "parallel"]
# A documented growth is measured with the host's scheduling jitter (tens of ms on seconds):
# the verdict's bound is this share of it, so a platform doing exactly what it documents holds.
JITTER = 0.9


class Fact(SpecModel, Generic[T]):
    """One value and why we believe it: a public page, or the reason it has none."""

    value: T
    source: str | None
    says: Text | None = None
    unconfirmed: Text | None = None

    @model_validator(mode="after")
    def _sourced_or_explained(self) -> Self:
        if (self.source is None) == (self.unconfirmed is None):
            raise ValueError("give exactly one of source (with says) or unconfirmed")
        if self.source is not None and not self.says:
            raise ValueError("a sourced fact says what its source says")
        return self

    def cite(self) -> str:
        if self.source is None:
            return f"Not confirmed from a public source: {self.unconfirmed}"
        return f"{self.says} ({self.source})"


class Retries(SpecModel):
    """What one step does with a failed call, inside the same run."""

    on_by_default: Fact[bool]
    setting: str | None  # the setting that switches it on, as the platform names it
    attempts: Fact[int]  # once switched on, with the setting's own defaults (1: no retry)
    max_attempts: Fact[int | None]  # the most the setting allows (None: no stated limit)
    waits_s: Fact[tuple[float, ...]]  # waits between those attempts
    backoff: Fact[Backoff]
    statuses: Fact[tuple[str, ...]]


class Replays(SpecModel):
    """Re-runs of a failed step after the run itself ended, by the platform."""

    count: Fact[int]
    waits_s: Fact[tuple[float, ...]]  # successive waits: from the failure to the first, …


class Ordering(SpecModel):
    parallel: Fact[bool]  # runs of one flow overlap, so a later event can overtake
    detail: Fact[str]


class PresetSpec(SpecModel):
    """A fault preset for topics, built from this profile (`chaosbus.platforms.presets`)."""

    name: Name = Field(pattern=r"^[a-z0-9-]+$")
    kind: PresetKind
    probability: float = Field(gt=0.0, le=1.0)
    compress: float = Field(default=1.0, ge=1.0, le=1_000_000.0)
    window: int = Field(default=3, ge=2, le=100)  # parallel: events that may swap places
    within_ms: int = Field(default=300, ge=1, le=60_000)


class Profile(SpecModel):
    name: Name = Field(pattern=r"^[a-z0-9-]+$")
    title: Text
    summary: Text
    retries: Retries
    replays: Replays
    idempotency_key: Fact[str | None]
    ordering: Ordering
    losses: Fact[str]
    presets: tuple[PresetSpec, ...] = ()

    @property
    def retry_offsets_s(self) -> tuple[float, ...]:
        """When the retries of one failed call go out, in seconds after it (switched on)."""
        return tuple(itertools.accumulate(self.retries.waits_s.value))

    @property
    def replay_offsets_s(self) -> tuple[float, ...]:
        """When the platform replays a failed step, in seconds after the failure."""
        return tuple(itertools.accumulate(self.replays.waits_s.value))

    @property
    def horizon_s(self) -> float:
        """The latest a copy of one event can still come from this platform."""
        return max((*self.retry_offsets_s, *self.replay_offsets_s), default=0.0)

    def facts(self) -> list[tuple[str, Fact[Any]]]:
        """Every fact with its dotted name, in file order."""
        out: list[tuple[str, Fact[Any]]] = []
        for section in ("retries", "replays", "ordering"):
            part = getattr(self, section)
            for field_name in type(part).model_fields:
                value = getattr(part, field_name)
                if isinstance(value, Fact):
                    out.append((f"{section}.{field_name}", value))
        out += [("idempotency_key", self.idempotency_key), ("losses", self.losses)]
        return out

    def unconfirmed(self) -> list[str]:
        return [name for name, fact in self.facts() if fact.source is None]

    def retry_policy(self) -> RetryPolicy:
        """The HTTP verdict's bounds for "retries as this platform itself does them".

        Attempts: the most its retry setting allows, plus its replays. Growth: the smallest
        between successive documented waits, of its retries and of its replays (1 for a
        fixed wait: no backoff is then the platform's own habit, not the flow's fault),
        less `JITTER`: a fixed wait measured on a real host grows by 0.98x or 1.02x.
        """
        most = self.retries.max_attempts.value or self.retries.attempts.value
        growths = [
            b / a
            for waits in (self.retries.waits_s.value, self.replays.waits_s.value)
            for a, b in itertools.pairwise(waits)
        ]
        return RetryPolicy(
            max_attempts=most + self.replays.count.value,
            min_backoff_ratio=round(max(1.0, min(growths, default=1.0)) * JITTER, 3),
        )


def _library() -> dict[str, str]:
    folder = files(__name__.rpartition(".")[0]).joinpath("profiles")
    return {
        entry.name.removesuffix(".yaml"): entry.read_text(encoding="utf-8")
        for entry in folder.iterdir()
        if entry.name.endswith(".yaml")
    }


@cache
def profiles() -> dict[str, Profile]:
    """Every shipped profile by name, sorted; a broken file is a packaging error."""
    out: dict[str, Profile] = {}
    for stem, text in sorted(_library().items()):
        try:
            profile = Profile.model_validate(parse_yaml_text(text, root=f"{stem}.yaml"))
        except (DocumentError, ValidationError) as exc:
            raise RuntimeError(f"platform profile {stem}.yaml is invalid: {exc}") from exc
        if profile.name != stem:
            raise RuntimeError(f"platform profile {stem}.yaml names itself {profile.name!r}")
        out[stem] = profile
    return out


def profile(name: str) -> Profile:
    """A profile by platform name; an unknown one lists the known ones (exit 2)."""
    known = profiles()
    if name not in known:
        raise InvalidInput(f"no platform named {name!r} (known: {', '.join(known)})")
    return known[name]
