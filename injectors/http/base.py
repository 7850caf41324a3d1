"""What every HTTP fault declares besides its own parameters: `Triggered` (name, probability,
trigger, as for topic faults) and a `match` on the request; the model each HTTP fault's
config derives from (its `type` narrowed to the fault's name)."""

from __future__ import annotations

from pydantic import Field

from chaosbus.injectors.base import JsonCondition, Triggered, _Spec
from chaosbus.injectors.limits import MAX_LIST, Pattern


class HttpMatch(_Spec):
    """Which requests a fault may touch; every given criterion must hold."""

    method: str | None = Field(default=None, pattern=r"^[A-Za-z]{1,20}$")  # case-insensitive
    path: Pattern | None = None  # fnmatch glob on the path, case-sensitive, no query string
    # name (case-insensitive) -> exact value
    headers: dict[Pattern, Pattern] | None = Field(default=None, max_length=MAX_LIST)
    json_conditions: dict[Pattern, JsonCondition] | None = Field(
        default=None, alias="json", max_length=MAX_LIST
    )


class HttpFaultConfig(Triggered):
    """The config of an HTTP fault; each HTTP fault module narrows `type` to its own name."""

    type: str
    match: HttpMatch | None = None
