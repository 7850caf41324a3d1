"""Bind the kill switch to running interposers: the hook `chaosbus proxy` can wrap itself in.

On `killed` or `unreachable`, every interposer stops deciding faults and releases what it
holds, at once, and keeps forwarding as a passthrough; on `clear` injection resumes. The
deciders are switched too, so a switch found engaged before any interposer exists (or
while they start) still gates them (fail closed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from chaosbus.control.keys import DEFAULT_KEYS, Keys
from chaosbus.control.watch import ControlState, KillSwitchWatcher


class Switchable(Protocol):
    """What `streams.interposer.RouteInterposer` (either delivery mode) offers the kill switch."""

    async def set_injecting(self, injecting: bool) -> None: ...


class Gated(Protocol):
    """A decider: `enabled` False means every decision passes."""

    enabled: bool


class InjectionGuard:
    """`async with InjectionGuard(url, lambda: proxy.interposers):` around a proxy run."""

    def __init__(
        self,
        url: str,
        interposers: Callable[[], Sequence[Switchable]],
        *,
        keys: Keys = DEFAULT_KEYS,
        poll_s: float = 0.25,
        deciders: Callable[[], Iterable[Gated]] = tuple,
    ) -> None:
        self._interposers = interposers
        self._deciders = deciders
        self.injecting = True
        self.watcher = KillSwitchWatcher(url, self._on_change, keys=keys, poll_s=poll_s)

    async def __aenter__(self) -> InjectionGuard:
        await self.watcher.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.watcher.__aexit__(*exc)

    async def _on_change(self, state: ControlState, detail: str) -> None:
        self.injecting = state == "clear"
        for decider in self._deciders():
            decider.enabled = self.injecting
        for interposer in self._interposers():
            await interposer.set_injecting(self.injecting)
