"""Switches scoped to a route, an HTTP route or a named fault: `chaosbus pause` / `resume`.

Beside the global kill switch, `<ns>:paused` is a hash of paused scopes, one field each:

    route:<source topic>   a topic route (its source feeds exactly one live interposer)
    http:<name>            an HTTP route of an experiment, or `chaosbus http --name`
    fault:<name>           a named fault (topic or HTTP), wherever it is declared

A field's value (JSON: who, why, when) is for people; the field's presence alone pauses.
It fails closed like the kill switch (docs/decisions/0050, 0252): a field whose value does
not parse still pauses its scope; a key of another type, a Redis that does not answer or
an error in the watcher pauses *every* scope (`PAUSE_EVERYTHING`).

What a pause does in each replica (`control.guard.InjectionGuard`, the runner): a paused
route stops injecting and releases what it holds, as the kill switch does; a paused fault
turns the decisions it would take into passes (reason `paused`) on every route, and the
routes that declare it release what they hold. The watcher reads the hash every poll and at
once when `pause`/`resume` is announced on `<ns>:control`: within 1 s in every replica.

`write_scope` is the one write: the server's `chaosbus_scope` function changes the hash,
appends the audit entry and announces it, all or nothing (docs/decisions/0300).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from chaosbus.control.keys import Keys
from chaosbus.control.plane import ControlPlane

ScopeKind = Literal["route", "http", "fault"]
SCOPE_KINDS: tuple[ScopeKind, ...] = ("route", "http", "fault")


@dataclass(frozen=True, slots=True)
class Scope:
    kind: ScopeKind
    name: str

    @property
    def field(self) -> str:
        return f"{self.kind}:{self.name}"

    def describe(self) -> str:
        what = {"route": "route", "http": "HTTP route", "fault": "fault"}[self.kind]
        return f"{what} {self.name}"


@dataclass(frozen=True, slots=True)
class Paused:
    """Which scopes are paused now; `everything` when the state could not be read."""

    fields: frozenset[str] = frozenset()
    everything: bool = False
    detail: str = ""

    def covers(self, scope: Scope) -> bool:
        return self.everything or scope.field in self.fields

    def names(self, kind: ScopeKind) -> frozenset[str]:
        prefix = f"{kind}:"
        return frozenset(f.removeprefix(prefix) for f in self.fields if f.startswith(prefix))

    def describe(self) -> str:
        if self.everything:
            return f"every scope paused ({self.detail})"
        return ", ".join(sorted(self.fields)) or "nothing paused"


NOTHING_PAUSED = Paused()


def pause_everything(detail: str) -> Paused:
    """The fail-closed state: what cannot be read is paused."""
    return Paused(everything=True, detail=detail)


def paused_state(raw: Mapping[str, str] | None) -> Paused:
    """Judge the hash as read (`{}` when absent; None when the key holds another type)."""
    if raw is None:
        return pause_everything("its key holds an unexpected type")
    return Paused(frozenset(str(field) for field in raw))


async def read_paused(client: Any, keys: Keys) -> Paused:
    """The scope state; raises RedisError/OSError when Redis does not answer."""
    kind = str(await client.type(keys.paused))
    if kind == "none":
        return NOTHING_PAUSED
    if kind != "hash":
        return paused_state(None)
    raw = await client.hgetall(keys.paused)
    return paused_state({str(k): str(v) for k, v in (raw or {}).items()})


async def write_scope(
    plane: ControlPlane,
    scope: Scope,
    *,
    paused: bool,
    claimed: str | None,
    reason: str | None,
    now_ms: int,
) -> bool:
    """Pause or resume `scope` (the change, its audit entry and the announcement, on the
    server). True when the state changed."""
    action = "pause" if paused else "resume"
    changed = await plane.fcall(
        "chaosbus_scope",
        claimed,
        scope.field,
        "1" if paused else "0",
        reason,
        doing=f"{action} {scope.describe()}",
    )
    return bool(changed)


async def paused_now(plane: ControlPlane) -> Paused:
    return await plane.call(read_paused(plane.client, plane.keys), "read the pauses")
