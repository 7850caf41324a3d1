"""Bind the kill switch and the scoped switches to running interposers: the hook `chaosbus
proxy` and `chaosbus http` wrap themselves in.

On `killed` or `unreachable`, every interposer stops deciding faults and releases what it
holds, at once, and keeps forwarding as a passthrough; on `clear` injection resumes. The
deciders are switched too, so a switch found engaged before any interposer exists (or
while they start) still gates them (fail closed).

The scoped switches (`control.scopes`) are applied beside it: a paused fault is passed by
every plan (reason `paused`), a paused route passes every fault it declares, and an
interposer whose plan newly pauses a fault releases what it holds, as the kill switch
does. An unreadable scope state pauses everything. With a meter, `chaosbus.kill_switch`
(1 while injection is off by the switch or an unreachable control plane) and
`chaosbus.paused` (1 per paused scope) are gauges.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from typing import Protocol

from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Observation

from chaosbus.control.keys import DEFAULT_KEYS, Keys
from chaosbus.control.scopes import NOTHING_PAUSED, Paused, Scope
from chaosbus.control.watch import ControlState, KillSwitchWatcher


class Switchable(Protocol):
    """What `streams.interposer.RouteInterposer` (either delivery mode) and
    `streams.http.HttpInterposer` offer the switches."""

    @property
    def scope(self) -> tuple[str, str]:
        """("route", source topic) or ("http", route name): what `pause --route` names."""

    async def set_injecting(self, injecting: bool, cause: str = "kill switch") -> None: ...

    def pause_faults(self, names: Collection[str], *, every: bool = False) -> None:
        """Pass what the named faults (`every`: all its faults) would take; release what is
        held when one of them is newly paused."""


class Gated(Protocol):
    """A decider: `enabled` False means every decision passes."""

    enabled: bool

    @property
    def fault_names(self) -> tuple[str, ...]: ...

    def pause(self, names: Collection[str]) -> bool: ...


def scope_of(interposer: Switchable) -> Scope:
    kind, name = interposer.scope
    return Scope("http" if kind == "http" else "route", name)


class InjectionGuard:
    """`async with InjectionGuard(url, lambda: proxy.interposers):` around a proxy run."""

    def __init__(
        self,
        url: str,
        interposers: Callable[[], Sequence[Switchable]],
        *,
        keys: Keys = DEFAULT_KEYS,
        poll_s: float = 0.25,
        deciders: Callable[[], Iterable[tuple[str, Gated]]] = tuple,
        meter_provider: metrics.MeterProvider | None = None,
    ) -> None:
        self._interposers = interposers
        # (source topic, decider) pairs: a route's plan, gated before its interposer exists.
        self._deciders = deciders
        self.injecting = True
        self.paused: Paused = NOTHING_PAUSED
        self.watcher = KillSwitchWatcher(
            url, self._on_change, keys=keys, poll_s=poll_s, on_paused=self._on_paused
        )
        if meter_provider is not None:
            self._observe(meter_provider.get_meter("chaosbus.control"))

    async def __aenter__(self) -> InjectionGuard:
        await self.watcher.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.watcher.__aexit__(*exc)

    async def _on_change(self, state: ControlState, detail: str) -> None:
        self.injecting = state == "clear"
        for _, decider in self._deciders():
            decider.enabled = self.injecting
        for interposer in self._interposers():
            await interposer.set_injecting(self.injecting)

    async def _on_paused(self, paused: Paused) -> None:
        self.paused = paused
        faults = paused.names("fault")
        for source, decider in self._deciders():
            route_paused = paused.covers(Scope("route", source))
            decider.pause(decider.fault_names if route_paused else faults)
        for interposer in self._interposers():
            interposer.pause_faults(faults, every=paused.covers(scope_of(interposer)))

    def _observe(self, meter: metrics.Meter) -> None:
        def switch(_: CallbackOptions) -> list[Observation]:
            return [Observation(0 if self.injecting else 1)]

        def pauses(_: CallbackOptions) -> list[Observation]:
            if self.paused.everything:
                return [Observation(1, {"chaosbus.scope": "*"})]
            return [Observation(1, {"chaosbus.scope": f}) for f in sorted(self.paused.fields)]

        meter.create_observable_gauge(
            "chaosbus.kill_switch",
            callbacks=[switch],
            description="1 while the kill switch (or an unreachable control plane) stops faults",
        )
        meter.create_observable_gauge(
            "chaosbus.paused", callbacks=[pauses], description="1 per paused scope"
        )
