"""Helpers for tests of code built on the fault model (shipped, like a mock transport).

`envelope()` builds a source message with defaults; `drive()` runs a plan over a sequence
of envelopes on a logical clock and collects everything it emitted, flush included, so a
test can state invariants over the whole output.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from chaosbus.injectors.envelope import Emission, Envelope, Headers, SourceCoordinates
from chaosbus.injectors.plan import Decision, FaultPlan


def envelope(
    offset: int,
    *,
    partition: int = 0,
    topic: str = "orders.nocode",
    key: bytes | None = None,
    value: bytes | None = b"{}",
    headers: Headers = (),
    timestamp_ms: int = 0,
) -> Envelope:
    """A source message; the key defaults to ``k<offset>`` so every message has its own."""
    return Envelope(
        key=f"k{offset}".encode() if key is None else key,
        value=value,
        headers=headers,
        timestamp_ms=timestamp_ms,
        source=SourceCoordinates(topic, partition, offset),
    )


@dataclass
class Trace:
    decisions: list[Decision] = field(default_factory=list)
    emissions: list[Emission] = field(default_factory=list)  # in the order handed out


def drive(
    plan: FaultPlan,
    envelopes: Iterable[Envelope],
    *,
    step_ms: int = 1,
    poll_every: int = 1,
    flush: bool = True,
) -> Trace:
    """Decide each envelope at t = i * step_ms, polling every `poll_every` messages."""
    trace = Trace()
    now = 0
    for index, env in enumerate(envelopes):
        now = index * step_ms
        decision = plan.decide(env, now)
        trace.decisions.append(decision)
        trace.emissions.extend(decision.emissions)
        if poll_every and (index + 1) % poll_every == 0:
            trace.emissions.extend(plan.poll(now))
    if flush:
        trace.emissions.extend(plan.flush(now + step_ms))
    return trace
