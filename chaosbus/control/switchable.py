"""A fault plan whose `enabled = False` is a true passthrough: the kill switch's decider.

`injectors.FaultPlan.flush()` releases everything it holds but keeps each partition's
release floor, raised by `preserve_order` delays. A pass decided after a kill is then
floored to it and waits behind a delay that no longer exists (up to the delay's length).
Until the plan drops its floors on flush, this adapter answers for a disabled plan itself:
every message is forwarded at once, as a `pass` with reason `disabled`.
"""

from __future__ import annotations

from injectors.envelope import Emission, Envelope
from injectors.plan import FaultPlan
from streams.decider import DecisionLike, PassDecision


class SwitchableDecider:
    """Satisfies `streams.decider.Decider`; wrap each route's plan before the proxy starts."""

    def __init__(self, plan: FaultPlan) -> None:
        self.plan = plan

    @property
    def enabled(self) -> bool:
        return self.plan.enabled

    @enabled.setter
    def enabled(self, value: bool) -> None:
        self.plan.enabled = value

    @property
    def held_count(self) -> int:
        return self.plan.held_count

    def decide(self, envelope: Envelope, now_ms: int) -> DecisionLike:
        if self.plan.enabled:
            return self.plan.decide(envelope, now_ms)
        # Nothing is held once disabled: set_injecting(False) flushed the plan already.
        return PassDecision(envelope.source, (Emission(envelope, 0, now_ms),), reason="disabled")

    def poll(self, now_ms: int) -> list[Emission]:
        return self.plan.poll(now_ms)

    def flush(self, now_ms: int) -> list[Emission]:
        return self.plan.flush(now_ms)
