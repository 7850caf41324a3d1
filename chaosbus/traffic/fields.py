"""Typed field generators of a traffic spec: the declared shape, and drawing a value (pure).

    {const: X}                   always X
    {choice: [a, b], weights: [3, 1]}
    {int: [LOW, HIGH]}           inclusive; amounts in cents are ints
    {float: [LOW, HIGH], decimals: 2}
    {uuid: true}                 a version-4 UUID drawn from the seeded generator
    {sequence: "c-{n:04d}"}      n counts 1, 2, … per field
    {pool: N, of: GENERATOR}     N values drawn once, then picked from: a realistic number of
                                 distinct customers, products, …
    {fake: PROVIDER.METHOD}      a realistic value from mimesis (person.email, address.city,
                                 finance.company, …; decision 0262)

Every draw takes its randomness from the `random.Random` it is handed (mimesis is seeded from
it), so one seed gives one stream of values.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from functools import cache
from typing import Annotated, Any, Self

from pydantic import Discriminator, Field, Tag, field_validator, model_validator
from pydantic_core import PydanticCustomError

from chaosbus.injectors.limits import MAX_LIST, MAX_PATTERN, SpecModel

FIELD_KINDS = ("const", "choice", "int", "float", "uuid", "sequence", "pool", "fake")
MAX_POOL = 1_000_000
Scalar = str | int | float | bool | None


class ConstField(SpecModel):
    const: Scalar


class ChoiceField(SpecModel):
    choice: tuple[Scalar, ...] = Field(min_length=1, max_length=MAX_LIST)
    weights: tuple[float, ...] | None = None

    @model_validator(mode="after")
    def _weights_fit(self) -> Self:
        if self.weights is not None and (
            len(self.weights) != len(self.choice)
            or any(w < 0 for w in self.weights)
            or sum(self.weights) <= 0
        ):
            raise PydanticCustomError(
                "weights", "weights: one non-negative number per choice, not all zero"
            )
        return self


class IntField(SpecModel):
    int_range: tuple[int, int] = Field(alias="int")

    @field_validator("int_range")
    @classmethod
    def _ordered(cls, bounds: tuple[int, int]) -> tuple[int, int]:
        if bounds[0] > bounds[1]:
            raise PydanticCustomError("range", "[LOW, HIGH] with LOW ≤ HIGH")
        return bounds


class FloatField(SpecModel):
    float_range: tuple[float, float] = Field(alias="float")
    decimals: int = Field(default=2, ge=0, le=12)

    @field_validator("float_range")
    @classmethod
    def _ordered(cls, bounds: tuple[float, float]) -> tuple[float, float]:
        if bounds[0] > bounds[1]:
            raise PydanticCustomError("range", "[LOW, HIGH] with LOW ≤ HIGH")
        return bounds


class UuidField(SpecModel):
    uuid: bool = True


class SequenceField(SpecModel):
    sequence: str = Field(min_length=1, max_length=MAX_PATTERN)

    @field_validator("sequence")
    @classmethod
    def _formats(cls, template: str) -> str:
        try:
            template.format(n=1)
        except (KeyError, IndexError, ValueError) as exc:
            raise PydanticCustomError(
                "sequence", "a template with {{n}}, like c-{{n:04d}} ({error})", {"error": exc}
            ) from exc
        return template


class FakeField(SpecModel):
    fake: str = Field(pattern=r"^[a-z_]+\.[a-z_]+$")

    @field_validator("fake")
    @classmethod
    def _known(cls, name: str) -> str:
        problem = fake_problem(name)
        if problem is not None:
            raise PydanticCustomError("fake", problem)
        return name


class PoolField(SpecModel):
    pool: int = Field(ge=1, le=MAX_POOL, strict=True)
    of: FieldSpec


def _kind(value: Any) -> str | None:
    if isinstance(value, dict):
        found = [k for k in FIELD_KINDS if k in value]
        return found[0] if len(found) == 1 else None
    return next((k for k in FIELD_KINDS if isinstance(value, _MODELS[k])), None)


FieldSpec = Annotated[
    Annotated[ConstField, Tag("const")]
    | Annotated[ChoiceField, Tag("choice")]
    | Annotated[IntField, Tag("int")]
    | Annotated[FloatField, Tag("float")]
    | Annotated[UuidField, Tag("uuid")]
    | Annotated[SequenceField, Tag("sequence")]
    | Annotated[PoolField, Tag("pool")]
    | Annotated[FakeField, Tag("fake")],
    Discriminator(
        _kind,
        custom_error_type="field_kind",
        custom_error_message=f"a field generator is one of {', '.join(FIELD_KINDS)}",
    ),
]
_MODELS: dict[str, type[SpecModel]] = {
    "const": ConstField,
    "choice": ChoiceField,
    "int": IntField,
    "float": FloatField,
    "uuid": UuidField,
    "sequence": SequenceField,
    "pool": PoolField,
    "fake": FakeField,
}
PoolField.model_rebuild()

Draw = Callable[[random.Random], Any]


@cache
def _fake_providers() -> dict[str, set[str]]:
    from mimesis import Generic
    from mimesis.locales import Locale
    from mimesis.providers.base import BaseProvider

    generic = Generic(locale=Locale.EN, seed=0)
    providers: dict[str, set[str]] = {}
    for name in dir(generic):
        provider = getattr(generic, name, None)
        if name.startswith("_") or not isinstance(provider, BaseProvider):
            continue
        providers[name] = {
            m for m in dir(provider) if not m.startswith("_") and callable(getattr(provider, m))
        }
    return providers


def fake_problem(name: str) -> str | None:
    provider, _, method = name.partition(".")
    providers = _fake_providers()
    if provider not in providers:
        return f"no mimesis provider {provider!r} (known: {', '.join(sorted(providers))})"
    if method not in providers[provider]:
        return f"mimesis provider {provider!r} has no {method!r}"
    return None


class Drawer:
    """Turns field specs into draws; holds the per-field state (sequences, pools, mimesis)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._fake: Any = None

    def compile(self, spec: FieldSpec) -> Draw:
        if isinstance(spec, ConstField):
            value = spec.const
            return lambda _: value
        if isinstance(spec, ChoiceField):
            return _choice(spec)
        if isinstance(spec, IntField):
            first, last = spec.int_range
            return lambda rng: rng.randint(first, last)
        if isinstance(spec, FloatField):
            (low, high), digits = spec.float_range, spec.decimals
            return lambda rng: round(rng.uniform(low, high), digits)
        if isinstance(spec, UuidField):
            return lambda rng: str(uuid.UUID(int=rng.getrandbits(128), version=4))
        if isinstance(spec, SequenceField):
            return _sequence(spec.sequence)
        if isinstance(spec, PoolField):
            return self._pool(spec)
        return self._faked(spec.fake)

    def _pool(self, spec: PoolField) -> Draw:
        inner = self.compile(spec.of)
        values: dict[int, Any] = {}

        def draw(rng: random.Random) -> Any:
            # Each member is drawn when first picked: a pool of a million costs nothing unused.
            index = rng.randrange(spec.pool)
            if index not in values:
                values[index] = inner(rng)
            return values[index]

        return draw

    def _faked(self, name: str) -> Draw:
        provider, _, method = name.partition(".")

        def draw(rng: random.Random) -> Any:
            if self._fake is None:
                from mimesis import Generic
                from mimesis.locales import Locale

                self._fake = Generic(locale=Locale.EN, seed=rng.getrandbits(64))
            return getattr(getattr(self._fake, provider), method)()

        return draw


def _choice(spec: ChoiceField) -> Draw:
    options, weights = list(spec.choice), spec.weights
    if weights is None:
        return lambda rng: rng.choice(options)
    cumulative: list[float] = []
    total = 0.0
    for weight in weights:
        total += weight
        cumulative.append(total)
    return lambda rng: rng.choices(options, cum_weights=cumulative)[0]


def _sequence(template: str) -> Draw:
    counter = [0]

    def draw(_: random.Random) -> str:
        counter[0] += 1
        return template.format(n=counter[0])

    return draw
