"""The HTTP fault schema: what `chaosbus http --fault FILE` and an experiment's
`http_routes[].faults` may declare.

Example::

    seed: 7
    faults:
      - {name: flaky, type: error, probability: 0.5, status: 503, retry_after_s: 2}
      - {name: slow, type: latency, probability: 0.2,
         distribution: {kind: uniform, min_ms: 200, max_ms: 2000}}
      - {name: webhook-twice, type: duplicate, match: {method: POST, path: "/hooks/*"},
         trigger: {every: 10}}
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, ValidationError, field_validator

from chaosbus.injectors.errors import SpecError
from chaosbus.injectors.limits import MAX_DURATION_MS, MAX_LIST, MAX_TEXT, Pattern, Seed
from chaosbus.injectors.spec import (
    BlastRadius,
    Distribution,
    JsonCondition,
    Triggered,
    _Spec,
    unique_names,
)
from chaosbus.injectors.validation import ROOT, format_validation_error

# 1xx and the 2xx/3xx a fault has no business inventing are refused; 499 (client closed)
# and 520-599 (nonstandard gateway codes) are what real platforms meet and are allowed.
Status = Annotated[int, Field(ge=400, le=599, strict=True)]


class HttpMatch(_Spec):
    """Which requests a fault may touch; every given criterion must hold."""

    method: str | None = Field(default=None, pattern=r"^[A-Za-z]{1,20}$")  # case-insensitive
    path: Pattern | None = None  # fnmatch glob on the path, case-sensitive, no query string
    # name (case-insensitive) -> exact value
    headers: dict[Pattern, Pattern] | None = Field(default=None, max_length=MAX_LIST)
    json_conditions: dict[Pattern, JsonCondition] | None = Field(
        default=None, alias="json", max_length=MAX_LIST
    )


class _HttpFault(Triggered):
    match: HttpMatch | None = None


class LatencyFault(_HttpFault):
    """Forward after a drawn wait: a slow service."""

    type: Literal["latency"] = "latency"
    distribution: Distribution


class ErrorFault(_HttpFault):
    """Answer with an error status without calling the service (it never sees the request)."""

    type: Literal["error"] = "error"
    status: Status = 503
    retry_after_s: int | None = Field(default=None, ge=0, le=86_400, strict=True)
    body: str = Field(default="", max_length=MAX_TEXT)


class HangFault(_HttpFault):
    """Accept the request and answer nothing for `hang_ms`, then close: the client times out."""

    type: Literal["hang"] = "hang"
    hang_ms: int = Field(default=30_000, ge=1, le=MAX_DURATION_MS, strict=True)


class ResetFault(_HttpFault):
    """Close the connection without an answer, before calling the service."""

    type: Literal["reset"] = "reset"


class TruncateFault(_HttpFault):
    """Call the service, then send only the first `keep_share` of its body and close."""

    type: Literal["truncate"] = "truncate"
    keep_share: float = Field(default=0.5, ge=0.0, lt=1.0, allow_inf_nan=False)


class DuplicateFault(_HttpFault):
    """Deliver the request to the service `copies` more times: a webhook sent twice."""

    type: Literal["duplicate"] = "duplicate"
    copies: int = Field(default=1, ge=1, le=10, strict=True)


HttpFault = Annotated[
    DuplicateFault | ErrorFault | HangFault | LatencyFault | ResetFault | TruncateFault,
    Field(discriminator="type"),
]


class HttpFaultFile(_Spec):
    faults: tuple[HttpFault, ...] = Field(max_length=MAX_LIST)
    blast_radius: BlastRadius = BlastRadius()
    seed: Seed | None = None

    @field_validator("faults")
    @classmethod
    def _unique_names(cls, faults: tuple[HttpFault, ...]) -> tuple[HttpFault, ...]:
        return unique_names(faults)


def parse_http_fault_document(data: object, origin: str) -> HttpFaultFile:
    if data is None:
        raise SpecError([f"{ROOT}: empty; expected a mapping with a 'faults' list"], origin)
    try:
        return HttpFaultFile.model_validate(data)
    except ValidationError as exc:
        raise SpecError(format_validation_error(exc, data), origin) from exc
