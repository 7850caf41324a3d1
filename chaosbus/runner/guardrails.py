"""Guardrails: a bound that must not stay breached for `for_s` seconds, or the run aborts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chaosbus.experiment.bounds import Guardrail
from chaosbus.runner.observe import Observed


@dataclass(frozen=True)
class Breach:
    guardrail: Guardrail
    observed: float
    since_ms: int

    def describe(self) -> str:
        g = self.guardrail
        lasted = f" for {g.for_s:g} s" if g.for_s else ""
        return (
            f"guardrail {g.label} breached: observed {self.observed:g}, bound {g.threshold}{lasted}"
        )


class GuardrailWatch:
    """Remembers since when each guardrail has been breached without a break."""

    def __init__(self, guardrails: Sequence[Guardrail]) -> None:
        self.guardrails = tuple(guardrails)
        self._since: dict[int, int] = {}
        self.worst: dict[int, float] = {}

    def update(self, observed: Observed, now_ms: int) -> Breach | None:
        """Judge every guardrail at `now_ms`; the first one breached long enough, if any."""
        for index, guardrail in enumerate(self.guardrails):
            value, holds = observed.judge(guardrail)
            if value is not None:
                self._note_worst(index, guardrail, value)
            if holds is not False:  # unknown (no value yet) never aborts a run
                self._since.pop(index, None)
                continue
            since = self._since.setdefault(index, now_ms)
            if now_ms - since >= guardrail.for_s * 1000:
                assert value is not None
                return Breach(guardrail, value, since)
        return None

    def _note_worst(self, index: int, guardrail: Guardrail, value: float) -> None:
        previous = self.worst.get(index)
        if previous is None:
            self.worst[index] = value
        elif guardrail.max is not None:
            self.worst[index] = max(previous, value)
        else:
            self.worst[index] = min(previous, value)
