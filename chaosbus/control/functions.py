"""The control plane's server-side writes: the `chaosbus_v1` Redis Functions library.

Kill, release, approve, pause/resume and audit appends are functions (`chaosbus_v1.lua`,
package data) so that ids, sequence, time and the chain are computed by the server, every
write checks first and writes after (all-or-nothing), and the caller is bound to its
credential. Why and what Redis 7 does not allow: docs/decisions/0300.

The library is loaded by `chaosbus control acl --apply` and `control init` (admins), and on
first use by any admin connection; other roles find it loaded or are told who loads it.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from redis.exceptions import ResponseError

LIBRARY = "chaosbus_v1"
NOT_LOADED = "function not found"


def library_code() -> str:
    return files("chaosbus.control").joinpath(f"{LIBRARY}.lua").read_text(encoding="utf-8")


async def load_library(client: Any) -> str:
    """FUNCTION LOAD REPLACE (admin): the library this chaosbus ships, whatever was there."""
    return str(await client.execute_command("FUNCTION", "LOAD", "REPLACE", library_code()))


def not_loaded(exc: BaseException) -> bool:
    return isinstance(exc, ResponseError) and NOT_LOADED in str(exc).lower()


def reason_of(exc: BaseException) -> str:
    """The function's own sentence without Redis's `script: …, on @user_function:…` tail."""
    text = str(exc)
    text = text.split(" script: ", 1)[0]
    return text.removeprefix("chaosbus: ").strip()
