"""The HTTP fault schema: what `chaosbus http --fault FILE` and an experiment's
`http_routes[].faults` may declare. Each HTTP fault's own fields are in its module
(`injectors/http/error.py`, …); what they share is in `injectors.http.base`.

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

from typing import TYPE_CHECKING, TypeAlias

from pydantic import Field, ValidationError, field_validator

from chaosbus.injectors.base import _Spec, discriminated_union
from chaosbus.injectors.errors import SpecError
from chaosbus.injectors.http.base import HttpFaultConfig, HttpMatch
from chaosbus.injectors.http.registry import HTTP_FAULT_CONFIGS
from chaosbus.injectors.limits import MAX_LIST, Seed
from chaosbus.injectors.spec import BlastRadius, unique_names
from chaosbus.injectors.validation import ROOT, format_validation_error

__all__ = [
    "HttpFault",
    "HttpFaultFile",
    "HttpMatch",
    "parse_http_fault_document",
]

# Any HTTP fault: the union of the HTTP registry's configs, told apart by `type` (the type
# checker sees their common base; see `injectors.spec.Fault`).
if TYPE_CHECKING:
    HttpFault: TypeAlias = HttpFaultConfig
else:
    HttpFault = discriminated_union(HTTP_FAULT_CONFIGS)


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
        raise SpecError(format_validation_error(exc, data, model=HttpFaultFile), origin) from exc
